#!/usr/bin/env bash
# The same trace hash under every compiler: builds the faultline binary with clang-14 (CMake
# preset "clang", build/clang; installs clang-14 when missing) and checks that its trace hashes
# (scripts/trace_hashes.sh: the library, the every-kind swarm, sim-demo over 200 seeds) equal the
# golden file, which the GCC build is checked against too (ctest golden_trace_hashes).
#   scripts/compiler_hashes.sh            build if needed, then compare
#   scripts/compiler_hashes.sh --no-build compare only (ctest's compiler_hashes_clang)
# Without --no-build it also rebuilds what changed. Exit 0: equal; 1: a hash differs; 2: set-up;
# 77: --no-build and no clang build (ctest reports the test skipped, unless
# FAULTLINE_REQUIRE_CLANG=1, as scripts/test.sh sets, makes that a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=build/clang/cli/faultline
if [ "${1:-}" = "--no-build" ]; then
  if [ ! -x "$binary" ]; then
    echo "compiler_hashes.sh: no clang build at $binary (scripts/setup.sh clang builds it)" >&2
    [ "${FAULTLINE_REQUIRE_CLANG:-0}" = 1 ] && exit 1
    exit 77
  fi
else
  scripts/setup.sh clang
fi
"$binary" version
exec scripts/trace_hashes.sh --binary "$binary" --check tests/golden/trace_hashes.txt
