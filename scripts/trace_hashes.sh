#!/usr/bin/env bash
# The trace hashes that must not change by accident: every library scenario at seeds 1-3, the
# every-fault-kind swarm (tests/scenarios/swarm_every_kind.textproto) and incremental RocksDB
# state under disk faults (tests/scenarios/rocksdb_incremental_disk_faults.textproto) and
# rescaling under a nemesis (tests/scenarios/rescale_nemesis.textproto) and savepoints under a
# nemesis (tests/scenarios/savepoint_nemesis.textproto) at seeds 1-10, and the
# kernel's sim-demo at seeds 1-200. One line each: "<what> <seed> <hash>".
#
#   scripts/trace_hashes.sh [--binary BIN]                 print them
#   scripts/trace_hashes.sh [--binary BIN] --check FILE    compare with FILE (exit 1 on a change)
#   scripts/trace_hashes.sh [--binary BIN] --write FILE    regenerate FILE
#
# The golden file is tests/golden/trace_hashes.txt; ctest's golden_trace_hashes checks the GCC
# build against it and compiler_hashes (scripts/compiler_hashes.sh) a clang-14 build. A commit
# that changes a hash on purpose regenerates the file and says why.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=build/release/cli/faultline
mode=print
file=
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --check) mode=check; file=$2; shift 2 ;;
    --write) mode=write; file=$2; shift 2 ;;
    *) echo "trace_hashes.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$binary" ] || { echo "trace_hashes.sh: no faultline binary at $binary" >&2; exit 2; }

run_hash() {  # scenario seed
  local out hash
  out=$("$binary" run "$1" --seed "$2" 2>&1) || true
  hash=$(printf '%s\n' "$out" | sed -n 's/^trace  *hash \([0-9a-f]*\) .*/\1/p' | head -1)
  if [ -z "$hash" ]; then
    echo "trace_hashes.sh: no trace hash from '$binary run $1 --seed $2':" >&2
    printf '%s\n' "$out" | tail -5 >&2
    exit 2
  fi
  echo "$1 $2 $hash"
}

generate() {
  local f s
  for f in scenarios/library/*.textproto; do
    for s in 1 2 3; do run_hash "$f" "$s"; done
  done
  for s in $(seq 1 10); do run_hash tests/scenarios/swarm_every_kind.textproto "$s"; done
  for s in $(seq 1 10); do run_hash tests/scenarios/rocksdb_incremental_disk_faults.textproto "$s"; done
  for s in $(seq 1 10); do run_hash tests/scenarios/rescale_nemesis.textproto "$s"; done
  for s in $(seq 1 10); do run_hash tests/scenarios/savepoint_nemesis.textproto "$s"; done
  "$binary" sim-demo --seed 1 --count 200 --hash-only | sed 's/^/sim-demo /'
}

case "$mode" in
  print) generate ;;
  write) generate > "$file"; echo "wrote $(wc -l < "$file") hashes to $file" ;;
  check)
    actual=$(mktemp)
    trap 'rm -f "$actual"' EXIT
    generate > "$actual"
    if diff -u --label "$file (golden)" --label "$binary" "$file" "$actual"; then
      echo "trace hashes: $(wc -l < "$actual") identical to $file"
    else
      echo "trace hashes differ from $file (lines - golden, + this build). A change on" \
           "purpose regenerates it: scripts/trace_hashes.sh --write $file" >&2
      exit 1
    fi ;;
esac
