#!/usr/bin/env bash
# The Push-T recipe search of issue 9: one factor at a time around the base recipe, the same wall-clock budget each
# (BUDGET seconds, default 360), every run recorded in experiments/recipe-search/results/recipe-search.jsonl by experiments/recipe-search/recipe-run.sh.
# Table + plot: npx tsx experiments/recipe-search/recipe-report.ts. Runs already finished are skipped (their record is re-appended).
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${BUDGET:-360}
base='"history":2,"window":8,"positionsPerWindow":8,"decoderDraws":1,"prevAction":false,"decoder":"mlp","decDModel":256,"decLayers":3'
common=(--ema-power 0.75 --ema-decay 0.9999)
run() { local name=$1 pc=$2; shift 2; experiments/recipe-search/recipe-run.sh "$name" "$B" "{$pc}" "${common[@]}" "$@" || echo "run $name failed"; }
run base "$base"
run prev-action "${base/\"prevAction\":false/\"prevAction\":true}"
run history16 "${base/\"history\":2,\"window\":8,\"positionsPerWindow\":8/\"history\":16,\"window\":16,\"positionsPerWindow\":16}"
run history4 "${base/\"history\":2/\"history\":4}"
run ddpm "$base,\"objective\":\"ddpm\""
run draws2 "${base/\"positionsPerWindow\":8,\"decoderDraws\":1/\"positionsPerWindow\":4,\"decoderDraws\":2}"
run batch32 "$base" --batch 32
run lr1e-3 "$base" --lr 1e-3
run ema-fixed "$base" --ema-power 0 --ema-decay 0.999
# the fair comparison (issue 9, item 5): every policy with the new recipe's frames and windows, the same budget
obs='"history":2,"window":8,"positionsPerWindow":8,"prevAction":false'
POLICY=entangled-diffusion run cmp-entangled "$obs,\"draws\":1"
POLICY=mlp-bc run cmp-mlp-bc "$obs"
POLICY=dp-unet run cmp-dp-unet "\"horizon\":16"
# batch 64 runs the wasm heap out of memory for the entangled baseline (every chunk token in every layer): batch 32
POLICY=entangled-diffusion run cmp-entangled-b32 "$obs,\"draws\":1" --batch 32
