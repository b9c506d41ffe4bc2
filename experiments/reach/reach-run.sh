#!/usr/bin/env bash
# The multimodal result (issue 9, item 6): 200 expert demonstrations of reach-obstacle-v1, SCD with scd train's
# defaults (the searched recipe) for a 10-minute budget, evaluated on 50 seeds (side taken per episode in the JSON).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f runs/reach200.scdd ] || npx scd collect reach-obstacle-v1 --policy expert --episodes 200 --out runs/reach200.scdd
npx scd train --policy scd --dataset runs/reach200.scdd --steps 3000 --max-seconds 600 --val-every 0 --ckpt-every 200 --out runs/reach-new
npx scd eval --policy runs/reach-new/checkpoint --env reach-obstacle-v1 --episodes 50 --seed-start 100000 --latency 0 --json runs/reach-new/eval.json
