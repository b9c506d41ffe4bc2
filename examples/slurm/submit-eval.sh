#!/bin/bash
# Submit a sharded evaluation (an array of SHARDS tasks) and its merge job (runs after all shards succeed).
#   POLICY=runs/pusht/checkpoint SHARDS=10 OUT=results/pusht examples/slurm/submit-eval.sh
# Variables (sbatch passes the environment to the jobs): POLICY, ENV_ID (pusht-v1), EPISODES (50),
# SEED_START (100000), SHARDS (4), OUT (results), EVAL_ARGS (extra scd eval flags, e.g. "--latency 0"),
# SCD (how to run the CLI, default "npx scd"). Extra arguments go to both sbatch calls (e.g. --partition=cpu).
# Prints "array=<job id> merge=<job id>".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${POLICY:?set POLICY to a checkpoint directory (or expert / random)}"
export SHARDS=${SHARDS:-4} OUT=${OUT:-results}
mkdir -p "$OUT/logs"
array=$(sbatch --parsable "$@" --array="0-$((SHARDS - 1))" --output="$OUT/logs/%x-%A_%a.out" "$here/eval-shards.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable "$@" --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$OUT/logs/%x-%j.out" "$here/eval-merge.sbatch")
echo "array=$array merge=${merge%%;*}"
