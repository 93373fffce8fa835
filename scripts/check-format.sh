#!/usr/bin/env bash
# Fails when a C++ file does not match .clang-format. Pass --fix to rewrite them in place.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.h' '*.cc')
[ ${#files[@]} -eq 0 ] && exit 0

if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi

report=$(mktemp)
if ! clang-format --dry-run --Werror "${files[@]}" 2>"$report"; then
  head -n 40 "$report" >&2
  rm -f "$report"
  echo "custody: formatting differs from .clang-format; run ./scripts/check-format.sh --fix" >&2
  exit 1
fi
rm -f "$report"
