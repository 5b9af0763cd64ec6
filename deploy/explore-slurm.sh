#!/usr/bin/env bash
# A Slurm job array: each array task explores its shard of one seed range (task K of N runs
# --shard K+1/N) and writes shard-<K>.jsonl. Submit from the repository root after
# scripts/setup.sh has built faultline on a shared file system:
#   sbatch --array=0-7 deploy/explore-slurm.sh                  (8 shards)
#   SEEDS=100000 SCENARIO=scenarios/soak/unaligned.textproto sbatch --array=0-7 ...
# Merge when every task is done: the shards concatenated in task order are the unsharded run's
# output (docs/search.md, "Sharding across machines"):
#   for i in $(seq 0 7); do cat results/shard-$i.jsonl; done > explore.jsonl
#SBATCH --job-name=faultline-explore
#SBATCH --cpus-per-task=2
#SBATCH --output=results/slurm-%A_%a.out
set -eu
FAULTLINE=${FAULTLINE:-build/release/cli/faultline}
SCENARIO=${SCENARIO:-scenarios/soak/aligned.textproto}
SEEDS=${SEEDS:-100000}
RESULTS=${RESULTS:-results}
K=$((SLURM_ARRAY_TASK_ID + 1))
N=${SLURM_ARRAY_TASK_COUNT}
mkdir -p "$RESULTS"
status=0
"$FAULTLINE" explore "$SCENARIO" --seeds "$SEEDS" --shard "$K/$N" -j "${SLURM_CPUS_PER_TASK:-2}" \
  --json "$RESULTS/shard-$SLURM_ARRAY_TASK_ID.jsonl" --no-minimize || status=$?
# 1: the shard found failures (they are in its JSON lines); only 2 is an error.
[ "$status" -le 1 ]
