#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the main job: the kernel demo with its report.
#   scripts/demo.sh [faultline sim-demo options, e.g. --seed 7 --trace trace.json]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
exec build/release/cli/faultline sim-demo "$@"
