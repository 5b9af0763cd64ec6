#!/usr/bin/env bash
# check_checkers_deps.sh CHECKERS_DIR CHECKERS_LIBRARY ENGINE_LIBRARY: fails if the checkers reach
# into the engine's state or checkpoint implementation (docs/checkers.md, "What each checker
# trusts"). The checkers decode snapshots, metadata and the HA pointer with their own readers of
# the written formats and compute key groups with their own math, so a mistake the engine makes
# on both sides of a format cannot cancel out. Allowed from the engine: the protobuf schema
# (engine/proto/), the job API (engine/api/), and engine/exec/ headers for configuration, plan,
# event schema, observer interface and job status. Checked two ways:
#   1. no non-test source or header in CHECKERS_DIR includes "engine/state/..." or
#      "engine/checkpoint/..." (tests may: they build inputs with the engine and compare);
#   2. CHECKERS_LIBRARY's undefined symbols name nothing that ENGINE_LIBRARY defines in an object
#      built from engine/state/ or engine/checkpoint/ (the engine sources beside CHECKERS_DIR).
set -euo pipefail
dir=${1:?usage: check_checkers_deps.sh CHECKERS_DIR CHECKERS_LIBRARY ENGINE_LIBRARY}
lib=${2:?usage: check_checkers_deps.sh CHECKERS_DIR CHECKERS_LIBRARY ENGINE_LIBRARY}
engine_lib=${3:?usage: check_checkers_deps.sh CHECKERS_DIR CHECKERS_LIBRARY ENGINE_LIBRARY}
engine_dir=$(dirname "$0")/../engine
for path in "$dir" "$engine_dir/state" "$engine_dir/checkpoint"; do
  [ -d "$path" ] || { echo "no such directory: $path" >&2; exit 2; }
done
for file in "$lib" "$engine_lib"; do
  [ -f "$file" ] || { echo "no such library: $file" >&2; exit 2; }
done
status=0

sources=$(find "$dir" -maxdepth 1 -type f \( -name '*.h' -o -name '*.cc' \) ! -name '*_test.cc' |
          sort)
bad_includes=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]engine/(state|checkpoint)/' \
               $sources || true)
if [ -n "$bad_includes" ]; then
  echo "$dir: sources include the engine's state or checkpoint implementation:" >&2
  printf '%s\n' "$bad_includes" >&2
  status=1
fi

# Objects of the engine library built from engine/state/*.cc and engine/checkpoint/*.cc.
objects=$(find "$engine_dir/state" "$engine_dir/checkpoint" -maxdepth 1 -name '*.cc' \
            ! -name '*_test.cc' -printf '%f.o\n' | sort -u)
defined=$(nm -A --defined-only --format=posix "$engine_lib" 2>/dev/null |
          awk -v objs="$objects" 'BEGIN { n = split(objs, o, "\n"); for (i = 1; i <= n; i++) want[o[i]] = 1 }
               { split($1, parts, /[\[\]:]/); obj = parts[2]; if (obj in want) print $2 }' |
          grep faultline | sort -u)
undefined=$(nm -u --format=posix "$lib" | awk '{print $1}' | sort -u)
bad_symbols=$(comm -12 <(printf '%s\n' "$defined") <(printf '%s\n' "$undefined") || true)
if [ -n "$bad_symbols" ]; then
  echo "$lib calls the engine's state or checkpoint implementation:" >&2
  printf '%s\n' "$bad_symbols" | c++filt | head -20 >&2
  status=1
fi

[ $status -eq 0 ] && echo "$dir, $lib: nothing from engine/state/ or engine/checkpoint/" \
  "($(printf '%s\n' "$defined" | wc -l) symbols of theirs, none used)"
exit $status
