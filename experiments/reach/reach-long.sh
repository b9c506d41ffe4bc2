#!/usr/bin/env bash
# The "SCD, 2000 steps × 32 (resumed)" row: continue the 1000-step multimodal run (experiments/pusht/experiments.sh) to
# 2000 steps (--resume keeps weights, optimizer, EMA and RNG; the cosine schedule is re-laid over 2000 steps).
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf runs/reach-scd-long && cp -r runs/reach-scd runs/reach-scd-long && rm -f runs/reach-scd-long/eval.json runs/reach-scd-long/done
npx scd train --resume --out runs/reach-scd-long --steps 2000
npx scd eval --policy runs/reach-scd-long/checkpoint --env reach-obstacle-v1 --episodes 50 --seed-start 100000 --latency 0 --json runs/reach-scd-long/eval.json
