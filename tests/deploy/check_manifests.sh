#!/usr/bin/env bash
# Runs each scale-out manifest's shard command locally, once per index, with the variable its
# engine sets (Kubernetes: JOB_COMPLETION_INDEX; Slurm: SLURM_ARRAY_TASK_ID and
# SLURM_ARRAY_TASK_COUNT), merges the shards as the manifest says (concatenation in index order)
# and checks the result equals the unsharded run, byte for byte.
#   tests/deploy/check_manifests.sh path/to/faultline
set -euo pipefail
FAULTLINE=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FAULTLINE
export SCENARIO=scenarios/soak/at_least_once.textproto
export SEEDS=9
shards=4

"$FAULTLINE" explore "$SCENARIO" --seeds "$SEEDS" --json "$work/unsharded.jsonl" --no-minimize \
  -j 2 >/dev/null || [ $? -eq 1 ]
[ "$(wc -l < "$work/unsharded.jsonl")" -eq "$SEEDS" ] || { echo "unsharded run incomplete"; exit 1; }

# Kubernetes: the shard command is the container's script, between its marker lines.
script=$(sed -n '/# shard command/,/# end shard command/p' deploy/explore-indexed-job.yaml |
         sed 's/^              //')
[ -n "$script" ] || { echo "no shard command in the Indexed Job manifest"; exit 1; }
grep -q '^  completionMode: Indexed$' deploy/explore-indexed-job.yaml
mkdir -p "$work/k8s"
for index in $(seq 0 $((shards - 1))); do
  JOB_COMPLETION_INDEX=$index SHARDS=$shards RESULTS="$work/k8s" bash -c "$script" >/dev/null
done
for index in $(seq 0 $((shards - 1))); do cat "$work/k8s/shard-$index.jsonl"; done > "$work/k8s.jsonl"
cmp "$work/unsharded.jsonl" "$work/k8s.jsonl" || { echo "Kubernetes shards differ"; exit 1; }

# Slurm: the job array script itself.
mkdir -p "$work/slurm"
for index in $(seq 0 $((shards - 1))); do
  SLURM_ARRAY_TASK_ID=$index SLURM_ARRAY_TASK_COUNT=$shards SLURM_CPUS_PER_TASK=1 \
    RESULTS="$work/slurm" bash deploy/explore-slurm.sh >/dev/null
done
for index in $(seq 0 $((shards - 1))); do cat "$work/slurm/shard-$index.jsonl"; done \
  > "$work/slurm.jsonl"
cmp "$work/unsharded.jsonl" "$work/slurm.jsonl" || { echo "Slurm shards differ"; exit 1; }

# Docker: the image builds with the README's set-up and runs the binary it builds.
grep -q '^RUN .*scripts/setup.sh release faultline' deploy/Dockerfile
grep -q '^ENTRYPOINT \["/faultline/build/release/cli/faultline"\]' deploy/Dockerfile
echo "deploy manifests: $shards shards of $SEEDS seeds merge to the unsharded output (Kubernetes, Slurm)"
