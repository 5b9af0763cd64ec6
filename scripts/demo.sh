#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the main job: a library scenario with faults, and its report.
# Builds only the faultline binary (scripts/test.sh builds the rest).
#   scripts/demo.sh                       crash_during_alignment, seed 1
#   scripts/demo.sh --seed 7              the same scenario with another seed
#   scripts/demo.sh --scenario FILE [...] another scenario (faultline run options follow)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release faultline
scenario=scenarios/library/crash_during_alignment.textproto
if [ "${1:-}" = "--scenario" ]; then
  [ $# -ge 2 ] || { echo "demo.sh: --scenario needs a file" >&2; exit 2; }
  scenario=$2
  shift 2
fi
exec build/release/cli/faultline run "$scenario" "$@"
