#!/usr/bin/env bash
# Fuzzes the scenario loader (tests/fuzz/scenario_fuzz.cc) with libFuzzer, ASan and UBSan.
#   scripts/fuzz.sh [SECONDS]        default 60; e.g. scripts/fuzz.sh 600 for the documented run
# Installs clang-14 and libclang-rt-14-dev when missing (the normal build and CI never need
# them), configures build/fuzz (CMake preset "fuzz"), builds scenario_fuzz and runs it on a
# working copy of tests/fuzz/corpus. New inputs stay in build/fuzz/corpus; crashes, leaks and
# timeouts land in build/fuzz/artifacts/ and make this script fail. FUZZ_JOBS: build jobs (2).
# Extra libFuzzer flags may follow the seconds: scripts/fuzz.sh 60 -seed=7.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
case "$seconds" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [libFuzzer flags...]" >&2; exit 2 ;;
esac

scripts/install_packages.sh clang-14 libclang-rt-14-dev
command -v cmake >/dev/null || { echo "fuzz: run scripts/setup.sh first (cmake is missing)" >&2; exit 1; }

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
if [ ! -f build/fuzz/build.ninja ]; then
  cmake --preset fuzz >/dev/null
fi
cmake --build --preset fuzz -j "${FUZZ_JOBS:-2}"

mkdir -p build/fuzz/corpus build/fuzz/artifacts
# The first directory receives new inputs; tests/fuzz/corpus is only read.
# -rss_limit_mb: the loader bounds every size, so a run never needs much memory.
set +e
build/fuzz/tests/fuzz/scenario_fuzz \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
  -dict=tests/fuzz/scenario.dict -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1 \
  "$@" build/fuzz/corpus tests/fuzz/corpus
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "fuzz: FAILED (exit $rc); the input is in build/fuzz/artifacts/: add it to" \
       "tests/fuzz/corpus/ once fixed" >&2
  exit $rc
fi
echo "fuzz: no crash, hang or sanitizer report in ${seconds}s;" \
     "$(ls build/fuzz/corpus | wc -l) inputs in build/fuzz/corpus"
echo "fuzz: to keep the inputs that add coverage (keep tests/fuzz/corpus under 300 files):"
echo "  build/fuzz/tests/fuzz/scenario_fuzz -merge=1 tests/fuzz/corpus build/fuzz/corpus"
