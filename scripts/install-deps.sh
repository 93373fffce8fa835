#!/usr/bin/env bash
# Installs the Debian packages custody builds with. Idempotent: quick when all is there.
set -euo pipefail

packages=(
  cmake ninja-build pkg-config g++ clang-format
  clang libclang-rt-14-dev
  libsqlite3-dev libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libcereal-dev libspdlog-dev libgtest-dev libssl-dev
  sqlite3 curl
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "custody: missing packages: ${missing[*]} (run as root, or install them with apt-get)" >&2
  exit 1
fi

echo "custody: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
