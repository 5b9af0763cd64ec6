#!/usr/bin/env bash
# DET in CI (ORACLES.md): the DET checker itself judges a sample of the library, every third
# scenario in name order at two seeds, by running each twice (`faultline run --check DET`). The
# whole library's hashes are pinned by golden_trace_hashes and determinism_scenarios_test; this
# proves the checker a user lists reaches PASS, judged, on real scenarios.
#   tests/det_sample.sh FAULTLINE_BINARY LIBRARY_DIR
set -euo pipefail
binary="$1"
library="$2"
mapfile -t files < <(find "$library" -name '*.textproto' | sort)
failed=0
runs=0
for ((i = 0; i < ${#files[@]}; i += 3)); do
  for seed in 1 5; do
    runs=$((runs + 1))
    if ! out="$("$binary" run "${files[$i]}" --seed "$seed" --check DET)"; then
      echo "FAIL ${files[$i]} seed $seed: not the expected verdict"
      echo "$out" | grep -E '^(verdict|  [A-Z-]+ )' || true
      failed=1
    elif ! grep -q '^  DET PASS$' <<<"$out"; then
      echo "FAIL ${files[$i]} seed $seed: DET did not pass"
      grep -A2 '^  DET' <<<"$out" || true
      failed=1
    fi
  done
done
echo "DET judged $runs runs"
[[ $runs -gt 0 ]] || { echo "no scenario found under $library"; exit 1; }
exit $failed
