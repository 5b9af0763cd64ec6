#!/usr/bin/env python3
"""Compares two `faultline explore --json` outputs of the same seeds: every seed must have the
same trace hash and outcome in both (runs in separate processes), and none may fail."""
import json
import sys


def load(path):
    seeds = {}
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            seeds[row["seed"]] = (row["trace_hash"], row["outcome"], row["failing"])
    return seeds


def main():
    expected = int(sys.argv[3])
    a, b = load(sys.argv[1]), load(sys.argv[2])
    if len(a) != expected or len(b) != expected:
        sys.exit(f"expected {expected} seeds, got {len(a)} and {len(b)}")
    differ = [s for s in sorted(a) if a[s][:2] != b.get(s, (None, None, None))[:2]]
    if differ:
        s = differ[0]
        sys.exit(f"{len(differ)} seeds differ between the processes; seed {s}: {a[s]} vs {b.get(s)}")
    failing = [s for s in sorted(a) if a[s][2]]
    if failing:
        sys.exit(f"{len(failing)} seeds failed, first {failing[0]}: {a[failing[0]]}")
    print(f"ok: {expected} seeds, the same trace hashes in two processes")


main()
