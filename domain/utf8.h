#pragma once

// UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing above U+10FFFF.

#include <cstddef>
#include <string>
#include <string_view>

namespace custody {

// The length of the well-formed sequence at the start of `text` (1 to 4); 0 when `text` is
// empty or does not start with one.
std::size_t Utf8SequenceLength(std::string_view text);

bool IsValidUtf8(std::string_view text);

// C0 controls and DEL.
inline bool IsAsciiControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// Whether `text` holds a control character (C0, DEL, or C1, which includes U+0085 NEL), one
// of Unicode's line and paragraph separators (U+2028, U+2029), which may break a line or a
// terminal in a log, a listing or a CSV file, or a character that shows nothing yet hides or
// reorders text for a reader: zero-width ones (U+200B, U+2060 to U+2064, U+FEFF; the joiners
// U+200C and U+200D stay, as scripts and emoji sequences need them) and
// bidirectional controls (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069), as in
// "alice@example.com" written backwards behind a U+202E.
bool HasControlCharacter(std::string_view text);

// `text` with each byte that does not belong to a well-formed sequence replaced by U+FFFD.
std::string ToValidUtf8(std::string_view text);

// Whether `a` and `b` are the same text but for letter case, through Unicode's simple
// lower-case mapping (Ë = ë, Ω = ω, Д = д; not ß = SS, which changes the length). Bytes outside
// well-formed sequences compare as themselves. The tables are those of the C library's C.UTF-8
// locale; on a system without it, only ASCII letters fold.
bool EqualIgnoringCase(std::string_view a, std::string_view b);

}  // namespace custody
