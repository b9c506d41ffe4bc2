#!/bin/bash
# arm-push-v1: SCD, mlp-bc and dp-unet trained on the scripted expert's demonstrations at the same wall-clock
# budget, then evaluated at latency 0 for several receding horizons (actions executed per chunk).
#
#   bash experiments/arm-push/run.sh [out dir, default runs/arm-push] [budget seconds, default 1500]
#
# Resumable: a finished training (its `done` file) or evaluation (its JSON) is kept; an interrupted training
# continues with --resume. Results: <out>/evals/<policy>-x<execute>-<seed start>.json.
set -euo pipefail
OUT=${1:-runs/arm-push}
BUDGET=${2:-1500}
mkdir -p "$OUT/evals"
[ -f "$OUT/expert1000.scdd" ] || npx scd collect arm-push-v1 --policy expert --episodes 1000 --out "$OUT/expert1000.scdd"
train() {
  local name=$1; shift
  [ -f "$OUT/$name/done" ] && return
  local resume=""; [ -d "$OUT/$name/checkpoint" ] && resume="--resume"
  npx scd train "$@" --dataset "$OUT/expert1000.scdd" --schedule time --max-seconds "$BUDGET" --steps 50000 \
    --eval-every 1000 --eval-episodes 20 --ckpt-every 200 --out "$OUT/$name" $resume
  touch "$OUT/$name/done"
}
train scd --policy scd --policy-config '{"dModel":64,"encLayers":2,"heads":4,"decDModel":128,"decLayers":2}'
train mlp-bc --policy mlp-bc
train dp-unet --policy dp-unet
for p in scd mlp-bc dp-unet; do
  for x in 1 2 4 8; do
    for s in 100000 200000; do
      j="$OUT/evals/$p-x$x-$s.json"
      [ -f "$j" ] || npx scd eval --policy "$OUT/$p/checkpoint" --env arm-push-v1 --episodes 50 --seed-start $s \
        --latency 0 --execute $x --json "$j"
    done
  done
done
