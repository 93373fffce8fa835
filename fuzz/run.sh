#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan, in build/fuzz) and runs each for
# SECONDS (default 60) from its committed seeds in fuzz/corpus/<target>, with the tokens of
# fuzz/dict/<target>.dict. New inputs go to build/fuzz/corpus/<target>, crashes to
# build/fuzz/artifacts/. Exits 1 when a target fails.
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
all_targets=(fuzz_command fuzz_event_data fuzz_event_json fuzz_import fuzz_query fuzz_router)
[ $# -gt 0 ] && targets=("$@") || targets=("${all_targets[@]}")

build_dir=build/fuzz
# -O1 and line tables only: quick to build, fast enough to fuzz, enough for stack traces.
CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE= \
  -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" -DCUSTODY_FUZZ=ON -DCUSTODY_BUILD_TESTS=OFF \
  >/dev/null
cmake --build "$build_dir" --target "${targets[@]}" -j "$(nproc)"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$build_dir/artifacts"
failed=()
for target in "${targets[@]}"; do
  work="$build_dir/corpus/$target"
  mkdir -p "$work"
  log="$build_dir/$target.log"
  echo "fuzz: $target for ${seconds}s"
  dict=()
  [ -f "fuzz/dict/$target.dict" ] && dict=("-dict=fuzz/dict/$target.dict")
  # -rss_limit_mb and -timeout turn runaway memory or time into failures too.
  if "$build_dir/fuzz/$target" "$work" "fuzz/corpus/$target" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
      -artifact_prefix="$build_dir/artifacts/$target-" "${dict[@]}" >"$log" 2>&1; then
    # The last status line: execs, coverage (cov: edges, ft: features), corpus size.
    grep -E '^#[0-9]+' "$log" | tail -n 1 | sed "s/^/  /"
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$log" | sed "s/^/  /"
  else
    echo "fuzz: $target FAILED; the end of $log:" >&2
    tail -n 40 "$log" >&2
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failing targets: ${failed[*]} (inputs in $build_dir/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a finding"
