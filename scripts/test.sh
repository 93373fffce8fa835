#!/usr/bin/env bash
# Installs what is missing, checks formatting, builds with ASan+UBSan and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
./scripts/check-format.sh

build_dir=build/test
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUSTODY_SANITIZE=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc)"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" | tee "$build_dir/ctest.log"

# Every fuzz target briefly (a clang build in build/fuzz, then CUSTODY_FUZZ_SECONDS each, 10 by
# default: about a minute). A crash fails the run. CUSTODY_SKIP_FUZZ=1 skips it.
if [ "${CUSTODY_SKIP_FUZZ:-}" != 1 ]; then
  ./fuzz/run.sh "${CUSTODY_FUZZ_SECONDS:-10}"
fi

# The benchmarks' smoke test: its own Release build (several minutes the first time), then about
# half a minute of measurements; too long for a ctest entry. CUSTODY_SKIP_BENCH=1 skips it.
if [ "${CUSTODY_SKIP_BENCH:-}" != 1 ]; then
  ./bench/run.sh --quick
fi

# ctest's summary last, where CI reads it.
grep -E 'tests passed' "$build_dir/ctest.log"
