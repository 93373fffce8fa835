#pragma once

#include "bench/common.h"

namespace custody::bench {

// Reads the result lines of one run (--in), prints the table with ratios and goals, and writes
// the whole run as one JSON document (--out). 0 unless the input is unreadable.
int Report(const Args& args);

}  // namespace custody::bench
