#!/usr/bin/env bash
# #11: Push-T evaluations with real inference time charged on the virtual clock (--latency measured), tfjs vs
# ONNX Runtime, for the shipped SCD checkpoint and a dp-unet checkpoint (runs/search/cmp-dp-unet, from the recipe search).
set -x
cd "$(dirname "$0")/../.."
npx scd export assets/checkpoints/scd-pusht --format onnx --out runs/lat/scd-onnx
npx scd eval --policy runs/lat/scd-onnx --env pusht-v1 --episodes 50 --seed-start 100000 --latency measured --json experiments/latency/results/scd-onnx-measured.json
npx scd eval --policy assets/checkpoints/scd-pusht --env pusht-v1 --episodes 50 --seed-start 100000 --latency measured --json experiments/latency/results/scd-tfjs-measured.json
npx scd export runs/search/cmp-dp-unet/checkpoints/000000298 --format onnx --out runs/lat/dpunet-onnx
npx scd eval --policy runs/lat/dpunet-onnx --env pusht-v1 --episodes 20 --seed-start 100000 --latency measured --json experiments/latency/results/dpunet-onnx-measured.json
npx scd eval --policy runs/lat/dpunet-onnx --env pusht-v1 --episodes 20 --seed-start 100000 --latency 0 --json experiments/latency/results/dpunet-onnx-lat0.json
npx scd eval --policy runs/search/cmp-dp-unet/checkpoints/000000298 --env pusht-v1 --episodes 20 --seed-start 100000 --latency measured --json experiments/latency/results/dpunet-tfjs-measured.json
