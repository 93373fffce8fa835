#pragma once

// What the fuzz targets share: an invariant check that stops the run with a message, so that
// libFuzzer saves the input that broke it.

#include <cstdio>
#include <cstdlib>

namespace custody::fuzz {

inline void Check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

}  // namespace custody::fuzz
