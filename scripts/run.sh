#!/usr/bin/env bash
# Installs what is missing, builds custody (Release) and serves the demo stories from an
# embedded SQLite file under var/. Set CUSTODY_LISTEN=HOST:PORT to listen elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

build_dir=build/release
# -O2: GCC 12 at -O3 reports a false -Wrestrict inside the standard library, and warnings are
# errors here.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCUSTODY_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" --target custody -j "$(nproc)"

mkdir -p var
echo "custody: serving var/custody.db (the demo loads once; later runs keep what is there)"
exec "$build_dir/custody" serve --db var/custody.db \
  --listen "${CUSTODY_LISTEN:-127.0.0.1:8080}" --demo
