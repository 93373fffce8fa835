#include "eventstore/random.h"

#include <openssl/rand.h>

#include <climits>

namespace custody::eventstore {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendHex(std::string& out, const unsigned char* bytes, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHexDigits[bytes[i] >> 4]);
    out.push_back(kHexDigits[bytes[i] & 0xf]);
  }
}

}  // namespace

Status RandomBytes(void* out, std::size_t size) {
  if (size > INT_MAX || RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(size)) != 1) {
    return Status::IOError("the random number generator failed");
  }
  return Status::Ok();
}

Result<std::string> RandomHex(std::size_t bytes) {
  std::string random(bytes, '\0');
  if (Status status = RandomBytes(random.data(), bytes); !status.ok()) return status;
  std::string hex;
  hex.reserve(bytes * 2);
  AppendHex(hex, reinterpret_cast<const unsigned char*>(random.data()), bytes);
  return hex;
}

Result<std::string> UuidV7(TimeMs now) {
  unsigned char bytes[16];
  if (Status status = RandomBytes(bytes + 6, 10); !status.ok()) return status;
  const auto ms = static_cast<std::uint64_t>(now < 0 ? 0 : now);
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  bytes[6] = static_cast<unsigned char>(0x70 | (bytes[6] & 0x0f));  // version 7
  bytes[8] = static_cast<unsigned char>(0x80 | (bytes[8] & 0x3f));  // variant 10
  std::string text;
  text.reserve(36);
  AppendHex(text, bytes, 4);
  text.push_back('-');
  AppendHex(text, bytes + 4, 2);
  text.push_back('-');
  AppendHex(text, bytes + 6, 2);
  text.push_back('-');
  AppendHex(text, bytes + 8, 2);
  text.push_back('-');
  AppendHex(text, bytes + 10, 6);
  return text;
}

}  // namespace custody::eventstore
