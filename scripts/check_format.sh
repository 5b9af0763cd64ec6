#!/usr/bin/env bash
# Every C++ file git tracks is formatted as .clang-format says (clang-format 14, Debian 12's).
#   scripts/check_format.sh          list the files that differ; exit 1 if any
#   scripts/check_format.sh --fix    format them in place
# Exit 77 when clang-format is missing (ctest then reports format_check skipped, unless
# FAULTLINE_REQUIRE_CLANG=1, as scripts/test.sh sets after installing it, makes that a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
tool=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$tool" ]; then
  echo "check_format.sh: clang-format is not installed (scripts/setup.sh clang installs it)" >&2
  [ "${FAULTLINE_REQUIRE_CLANG:-0}" = 1 ] && exit 1
  exit 77
fi
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ "${1:-}" = "--fix" ]; then
  "$tool" -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$tool" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf 'not formatted: %s\n' "${bad[@]}"
  echo "${#bad[@]} of ${#files[@]} files differ from .clang-format: scripts/check_format.sh --fix" >&2
  exit 1
fi
echo "${#files[@]} files formatted as .clang-format says"
