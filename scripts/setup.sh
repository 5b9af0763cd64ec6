#!/usr/bin/env bash
# Installs what faultline needs on Debian 12 (only what is missing), then configures and builds.
#   scripts/setup.sh [PRESET] [TARGET...]
#     PRESET: release (default), debug, asan or clang; see CMakePresets.json
#     TARGET: build only these (e.g. faultline); default: the preset's (everything, except
#             clang: the faultline binary alone, for the GCC/clang trace-hash comparison)
# Idempotent: on a machine that has everything and an up-to-date build it does next to nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
shift || true

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  libprotobuf-dev protobuf-compiler librocksdb-dev
  qt6-base-dev xvfb xauth fonts-dejavu-core
  libcli11-dev libfmt-dev libxxhash-dev nlohmann-json3-dev
)
# The clang build compares trace hashes across compilers (scripts/compiler_hashes.sh).
[ "$preset" = clang ] && packages+=(clang-14)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: run as root, or install sudo" >&2; exit 1; }
    sudo=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ccache across clones: paths relative to the source root (see DEPENDENCIES.md).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
if [ ! -f "build/$preset/build.ninja" ]; then
  cmake --preset "$preset" >/dev/null
fi
if [ $# -gt 0 ]; then
  cmake --build --preset "$preset" --target "$@"
else
  cmake --build --preset "$preset"
fi
