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
  libcli11-dev libfmt-dev libxxhash-dev nlohmann-json3-dev python3
)
# The clang build compares trace hashes across compilers (scripts/compiler_hashes.sh); the
# format check (scripts/check_format.sh) needs clang-format.
[ "$preset" = clang ] && packages+=(clang-14 clang-format)

scripts/install_packages.sh "${packages[@]}"

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
