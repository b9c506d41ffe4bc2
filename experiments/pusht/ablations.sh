#!/usr/bin/env bash
# SCD ablations on Push-T at the comparison budget (1000 steps, batch 32; the baseline is runs/pusht-scd-1k):
# history 2 vs 16 frames, decoder depth 2 vs 1; and denoising steps K on the main checkpoint (eval only, 20
# episodes each).
set -euo pipefail
cd "$(dirname "$0")/../.."
common="--steps 1000 --batch 32 --lr 3e-4 --warmup 100 --seed 0 --ckpt-every 250 --val-every 250"
one() { # name, train args...
  local name=$1; shift
  [ -f "runs/$name/eval.json" ] && return
  [ -f "runs/$name/done" ] || { npx scd train $common --out "runs/$name" "$@" && touch "runs/$name/done"; }
  npx scd eval --policy "runs/$name/checkpoint" --env pusht-v1 --episodes 50 --seed-start 100000 --latency 0 --json "runs/$name/eval.json"
}
case "${1:-all}" in
  hist2) one abl-hist2 --policy scd --policy-config '{"positionsPerWindow":2,"decoderDraws":2,"history":2,"window":16}' ;;
  dec2) one abl-dec2 --policy scd --policy-config '{"positionsPerWindow":2,"decoderDraws":2,"decLayers":2}' ;;
  steps)
    for k in 1 2 5 10 20; do
      [ -f "runs/abl-k$k.json" ] || npx scd eval --policy runs/pusht-scd/checkpoint --env pusht-v1 --episodes 20 --seed-start 100000 --latency 0 --steps $k --json "runs/abl-k$k.json"
    done ;;
  all) "$0" hist2; "$0" dec2; "$0" steps ;;
esac
