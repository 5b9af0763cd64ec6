#!/usr/bin/env bash
# The HTML reports load in a real browser without a console error (docs/reports.md): headless
# Chromium (Debian's `chromium` package) opens a `faultline run --html` page and a
# `faultline explore --html` page, and the test fails on any console message (the pages have no
# script, and their Content Security Policy turns any fetch into one) or when the loaded DOM lost
# a plot element. Skips (exit 77) when chromium is not installed; FAULTLINE_REQUIRE_CHROMIUM=1, as
# scripts/test.sh sets after installing it, makes that a failure.
#   tests/html_chromium.sh FAULTLINE_BINARY LIBRARY_DIR WORK_DIR   generate the pages, load them
#   tests/html_chromium.sh --page FILE WORK_DIR                    load one page (a planted bad one)
set -euo pipefail

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIP: chromium is not installed, so the HTML reports were not loaded in a browser"
  echo "      (install it: scripts/install_packages.sh chromium; scripts/test.sh does)"
  [ "${FAULTLINE_REQUIRE_CHROMIUM:-0}" = 1 ] && exit 1
  exit 77
fi

# Loads $1 in headless Chromium; fails on a console message or a plot element the DOM lost.
load() {
  local page=$1 name
  name=$(basename "$page" .html)
  local err="$work/$name.stderr" dom="$work/$name.dom"
  if ! timeout 120 "$browser" --headless --disable-gpu --no-sandbox --no-first-run \
      --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
      --virtual-time-budget=2000 --dump-dom "file://$(realpath "$page")" >"$dom" 2>"$err"; then
    echo "FAIL $page: chromium did not load it"
    tail -5 "$err"
    return 1
  fi
  if grep -E ':CONSOLE[:(]|Uncaught ' "$err"; then
    echo "FAIL $page: console messages (above) while loading it"
    return 1
  fi
  local attr want got
  for attr in data-checkpoint data-fault-window data-recovery data-marker data-seed; do
    want=$({ grep -o "$attr=\"" "$page" || true; } | wc -l)
    got=$({ grep -o "$attr=\"" "$dom" || true; } | wc -l)
    if [ "$want" != "$got" ]; then
      echo "FAIL $page: $want elements with $attr in the page, $got in the DOM chromium built"
      return 1
    fi
  done
  if ! grep -q '</svg>' "$dom" && grep -q '<svg' "$page"; then
    echo "FAIL $page: no SVG in the DOM chromium built"
    return 1
  fi
  echo "ok   $page: loaded without a console message"
}

if [ "${1:-}" = --page ]; then
  work=$3
  mkdir -p "$work"
  load "$2" && exit 0
  exit 1
fi

binary=$1
library=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
# A run with a crash, a recovery and a violation (a teaching switch), and one under a swarm.
"$binary" run "$library/switch_offset_after_emit.textproto" --html "$work/run_switch.html" \
  >"$work/run_switch.txt"
"$binary" run "$library/nemesis_swarm.textproto" --html "$work/run_swarm.html" >"$work/run_swarm.txt"
status=0
"$binary" explore "$library/switch_offset_after_emit.textproto" --seeds 6 -j 2 --no-minimize \
  --html "$work/explore.html" >"$work/explore.txt" || status=$?
[ "$status" = 1 ] || { echo "FAIL: explore should exit 1 (failing seeds), exited $status"; exit 1; }
grep -q 'data-checkpoint="' "$work/run_swarm.html" || { echo "FAIL: no checkpoint plotted"; exit 1; }
failed=0
for page in "$work/run_switch.html" "$work/run_swarm.html" "$work/explore.html"; do
  load "$page" || failed=1
done
exit $failed
