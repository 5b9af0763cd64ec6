#!/usr/bin/env bash
# Renders faultline-gui offscreen to PNG files under docs/images/ (the README and gui/README.md
# show them): the main window on a library scenario, one picture per view.
#   scripts/gui_screenshots.sh [BUILD_DIR]   (default build/release; run scripts/setup.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
gui="$build/gui/faultline-gui"
[ -x "$gui" ] || { echo "gui_screenshots: $gui not built (scripts/setup.sh)" >&2; exit 1; }
mkdir -p docs/images
export QT_QPA_PLATFORM=offscreen
shot() {  # name, then faultline-gui's arguments
  local name=$1
  shift
  "$gui" "$@" --screenshot "docs/images/$name.png" 2>/dev/null
  echo "gui_screenshots: wrote docs/images/$name.png"
}
rescale=scenarios/library/rescale_4_to_2.textproto
# After the rescale from parallelism 4 to 2: the history, checkpoint 2's subtasks.
shot gui-rescale "$rescale" --seed 1 --at 1.2 --tab Checkpoints --checkpoint 2
# The space-time diagram around the rescale (checkpoint 3, then attempt 2 at parallelism 2).
shot gui-space-time "$rescale" --seed 1 --at 1.2 --tab Space-time
# Right after the TaskManager crash: its subtasks lost, the moments so far.
shot gui-crash "$rescale" --seed 1 --at 2.1 --tab Moments
shot gui-verdicts "$rescale" --seed 1 --at 2.1 --tab Verdicts
# The canvas under back-pressure: buffers queued on every channel, busy and back-pressured tasks.
shot gui-in-flight scenarios/library/backpressure_unaligned.textproto --seed 1 --at 0.52
# A guided lesson, at its alignment step.
shot gui-lesson --lesson alignment --step 3
# Two seeds of the crash scenario compared: where they part, how their states differ at 2.1 s.
shot gui-compare "$rescale" --seed 1 --compare-seed 2 --at 1.05 --tab Compare
# The inspector on a subtask under back-pressure: its queues per channel, its key groups.
shot gui-inspector scenarios/library/backpressure_aligned.textproto --seed 1 --at 0.3 --inspect "sum+out#1"
