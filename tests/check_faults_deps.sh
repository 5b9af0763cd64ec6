#!/usr/bin/env bash
# check_faults_deps.sh SOURCE_DIR LIBRARY: fails if the fault library reaches up into scenarios/.
# faults/ takes plain C++ plans (faults/fault_plan.h); the scenario schema and its loader convert
# files to plans (scenarios/fault_plan_proto.h), never the other way round. Checked three ways:
#   1. no source or header in SOURCE_DIR includes "scenarios/..." or names faultline::scenario(s);
#   2. SOURCE_DIR/CMakeLists.txt (when present) links no scenario target;
#   3. LIBRARY's undefined symbols name nothing in faultline::scenario(s) and nothing of protobuf.
set -euo pipefail
dir=${1:?usage: check_faults_deps.sh SOURCE_DIR LIBRARY}
lib=${2:?usage: check_faults_deps.sh SOURCE_DIR LIBRARY}
[ -d "$dir" ] || { echo "no such directory: $dir" >&2; exit 2; }
[ -f "$lib" ] || { echo "no such library: $lib" >&2; exit 2; }
status=0

sources=$(find "$dir" -maxdepth 1 -type f \( -name '*.h' -o -name '*.cc' \) | sort)
bad_includes=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]scenarios/' $sources || true)
bad_names=$(grep -nE '(faultline::)?scenarios?::' $sources | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)
if [ -n "$bad_includes$bad_names" ]; then
  echo "$dir: sources reach into scenarios/:" >&2
  printf '%s\n' "$bad_includes" "$bad_names" | sed '/^$/d' >&2
  status=1
fi

if [ -f "$dir/CMakeLists.txt" ]; then
  bad_links=$(grep -nE 'faultline(::|_)scenario' "$dir/CMakeLists.txt" || true)
  if [ -n "$bad_links" ]; then
    echo "$dir/CMakeLists.txt links a scenario target:" >&2
    printf '%s\n' "$bad_links" >&2
    status=1
  fi
fi

bad_symbols=$(nm -u -C "$lib" | grep -E 'faultline::scenarios?::|google::protobuf' || true)
if [ -n "$bad_symbols" ]; then
  echo "$lib uses symbols of scenarios/ or protobuf:" >&2
  printf '%s\n' "$bad_symbols" | head -20 >&2
  status=1
fi

[ $status -eq 0 ] && echo "$dir, $lib: nothing from scenarios/ (sources, links, symbols)"
exit $status
