#!/usr/bin/env bash
# The runs behind the result tables of docs/benchmarks.md (besides the main SCD run). Sequential; each step
# writes runs/<name>/ (checkpoint/, metrics.jsonl, loss.png) and runs/<name>/eval.json. Resumable: a finished
# run (eval.json present) is skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${STEPS:-1000}
BATCH=${BATCH:-32}
common="--steps $STEPS --batch $BATCH --lr 3e-4 --warmup 100 --seed 0 --ckpt-every 250 --val-every 250"

run() { # name, env, train args...
  local name=$1 env=$2; shift 2
  if [ -f "runs/$name/eval.json" ]; then echo "skip $name"; return; fi
  if [ -f "runs/$name/checkpoint/checkpoint.json" ] && [ ! -f "runs/$name/done" ]; then resume=--resume; else resume=; fi
  [ -f "runs/$name/done" ] || { npx scd train $common --out "runs/$name" $resume "$@" && touch "runs/$name/done"; }
  npx scd eval --policy "runs/$name/checkpoint" --env "$env" --episodes 50 --seed-start 100000 --latency 0 --json "runs/$name/eval.json"
}

# multimodal task: 200 expert demonstrations (seeds 0..199)
[ -f runs/reach200.scdd ] || npx scd collect reach-obstacle-v1 --policy expert --episodes 200 --out runs/reach200.scdd
run reach-scd reach-obstacle-v1 --policy scd --dataset runs/reach200.scdd --policy-config '{"positionsPerWindow":2,"decoderDraws":2}'
run reach-mlp reach-obstacle-v1 --policy mlp-bc --dataset runs/reach200.scdd

# Push-T, same data / budget / steps for the three policies
run pusht-scd-1k pusht-v1 --policy scd --policy-config '{"positionsPerWindow":2,"decoderDraws":2}'
run pusht-mlp-1k pusht-v1 --policy mlp-bc
run pusht-ent-1k pusht-v1 --policy entangled-diffusion --policy-config '{"positionsPerWindow":2,"draws":2}'

# ablations: experiments/pusht/ablations.sh; the resumed multimodal run: experiments/reach/reach-long.sh
