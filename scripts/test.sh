#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite: unit, integration and CLI tests.
#   scripts/test.sh            the release build, as CI runs it
#   scripts/test.sh asan       the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
scripts/setup.sh "$preset"
ctest --preset "$preset"
