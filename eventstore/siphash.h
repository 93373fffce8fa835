#pragma once

// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed hash of short inputs, fast and, for a
// secret key, a pseudorandom function. It fingerprints the commands table's rows in `verify`,
// with a fresh random key per check, so that no row can be chosen to match another's.

#include <array>
#include <cstdint>
#include <string_view>

namespace custody::eventstore {

using SipKey = std::array<std::uint64_t, 2>;  // the 16 key bytes, read little-endian

std::uint64_t SipHash24(const SipKey& key, std::string_view bytes);

}  // namespace custody::eventstore
