#include "domain/utf8.h"

#include <locale.h>
#include <wctype.h>

#include <cstdint>

namespace custody {

namespace {

struct Decoded {
  std::uint32_t code = 0;
  std::size_t length = 0;  // 0: no well-formed sequence
};

// The well-formed sequence at the start of a non-empty `text`, decoded.
Decoded DecodeSequence(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  if (lead < 0x80) return {lead, 1};
  std::size_t length;
  std::uint32_t code;
  if ((lead & 0xe0) == 0xc0) {
    length = 2;
    code = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3;
    code = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4;
    code = lead & 0x07;
  } else {
    return {};
  }
  if (text.size() < length) return {};
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[i]);
    if ((next & 0xc0) != 0x80) return {};
    code = code << 6 | (next & 0x3f);
  }
  static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return {};
  return {code, length};
}

}  // namespace

std::size_t Utf8SequenceLength(std::string_view text) {
  return text.empty() ? 0 : DecodeSequence(text).length;
}

bool HasControlCharacter(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if (IsAsciiControl(text[i])) return true;
    if (byte == 0xc2 && next >= 0x80 && next <= 0x9f) return true;  // U+0080 to U+009F
    if (byte == 0xe2 && i + 2 < text.size()) {
      const auto last = static_cast<unsigned char>(text[i + 2]);
      // U+200B, U+200E, U+200F; U+2028, U+2029; U+202A to U+202E.
      if (next == 0x80 &&
          (last == 0x8b || last == 0x8e || last == 0x8f || (last >= 0xa8 && last <= 0xae))) {
        return true;
      }
      // U+2060 to U+2064; U+2066 to U+2069.
      if (next == 0x81 && last >= 0xa0 && last <= 0xa9 && last != 0xa5) return true;
    }
    if (byte == 0xef && next == 0xbb && i + 2 < text.size() && text[i + 2] == '\xbf') {
      return true;  // U+FEFF
    }
    if (byte == 0xd8 && next == 0x9c) return true;  // U+061C, the Arabic letter mark
  }
  return false;
}

bool IsValidUtf8(std::string_view text) {
  while (!text.empty()) {
    // ASCII needs no decoding; most text is ASCII.
    if (static_cast<unsigned char>(text[0]) < 0x80) {
      text.remove_prefix(1);
      continue;
    }
    const std::size_t length = Utf8SequenceLength(text);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

std::string ToValidUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);  // nearly always
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t length = Utf8SequenceLength(text);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      text.remove_prefix(1);
    } else {
      out.append(text.data(), length);
      text.remove_prefix(length);
    }
  }
  return out;
}

namespace {

// The code point at the start of a non-empty `text` and its length in bytes; a byte outside a
// well-formed sequence is returned as itself, above U+10FFFF so that it never equals a decoded
// character.
Decoded NextCodePoint(std::string_view text) {
  const Decoded decoded = DecodeSequence(text);
  if (decoded.length == 0) return {0x110000u + static_cast<unsigned char>(text[0]), 1};
  return decoded;
}

std::uint32_t ToLower(std::uint32_t code) {
  if (code < 0x80) return code >= 'A' && code <= 'Z' ? code + ('a' - 'A') : code;
  if (code > 0x10ffff) return code;
  // glibc's C.UTF-8 locale, which Debian always installs (libc-bin is essential). Loaded once.
  static const locale_t unicode = newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
  if (unicode == nullptr) return code;
  return static_cast<std::uint32_t>(towlower_l(static_cast<wint_t>(code), unicode));
}

}  // namespace

bool EqualIgnoringCase(std::string_view a, std::string_view b) {
  while (!a.empty() && !b.empty()) {
    const Decoded x = NextCodePoint(a);
    const Decoded y = NextCodePoint(b);
    if (x.code != y.code && ToLower(x.code) != ToLower(y.code)) return false;
    a.remove_prefix(x.length);
    b.remove_prefix(y.length);
  }
  return a.empty() && b.empty();
}

}  // namespace custody
