#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite: unit, integration and CLI tests.
#   scripts/test.sh            the release build, as CI runs it; also builds the faultline binary
#                              with clang-14 (preset clang), whose trace hashes must equal GCC's
#   scripts/test.sh asan       the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
scripts/setup.sh "$preset"
# Headless Chromium loads the HTML reports (ctest html_reports_chromium); about 120 MB to
# download, half a minute to install. Installed here, the test fails rather than skips without it.
scripts/install_packages.sh chromium
export FAULTLINE_REQUIRE_CHROMIUM=1
if [ "$preset" = release ]; then
  scripts/setup.sh clang
  export FAULTLINE_REQUIRE_CLANG=1  # ctest compiler_hashes_clang fails, not skips, without it
fi
ctest --preset "$preset"
