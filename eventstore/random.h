#pragma once

// Random identifiers from the operating system's CSPRNG (OpenSSL RAND_bytes).

#include <cstddef>
#include <string>

#include "domain/status.h"
#include "domain/time.h"

namespace custody::eventstore {

// Fills `size` bytes at `out`; kIOError when the generator fails.
Status RandomBytes(void* out, std::size_t size);

// `bytes` random bytes as 2 * bytes lower-case hex digits.
Result<std::string> RandomHex(std::size_t bytes);

// A UUIDv7 (RFC 9562): 48-bit Unix time in ms, version 7, 74 random bits, variant 10.
// Formatted 8-4-4-4-12, lower case.
Result<std::string> UuidV7(TimeMs now);

}  // namespace custody::eventstore
