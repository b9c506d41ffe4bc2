#!/usr/bin/env bash
# One run of the Push-T recipe search (issue 9): train SCD (or another policy) for a wall-clock budget, evaluate the
# EMA weights on Diffusion Policy's 50 test seeds (100000-100049, latency 0), append one record to
# experiments/recipe-search/results/recipe-search.jsonl. Usage:
#   experiments/recipe-search/recipe-run.sh NAME BUDGET_SECONDS POLICY_CONFIG_JSON [extra `scd train` flags…]
# POLICY (env) picks the policy (default scd). Re-running a finished NAME only re-appends its record.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1; budget=$2; pc=$3; shift 3
policy=${POLICY:-scd}
out=runs/search/$name
mkdir -p "$out"
if [ ! -f "$out/eval.json" ]; then
  if [ ! -f "$out/trained" ]; then
    npx scd train --policy "$policy" --policy-config "$pc" --steps "${STEPS:-12000}" --warmup 200 --val-every 0 --ckpt-every 200 \
      --max-seconds "$budget" --out "$out" "$@" > "$out/train.log" 2>&1
    touch "$out/trained"
  fi
  npx scd eval --policy "$out/checkpoint" --env pusht-v1 --episodes 50 --seed-start 100000 --latency 0 ${EVAL_STEPS:+--steps $EVAL_STEPS} \
    --json "$out/eval.json" > "$out/eval.log" 2>&1
fi
node -e '
const fs = require("fs");
const [name, policy, pc, dir, extra] = process.argv.slice(1);
const ev = JSON.parse(fs.readFileSync(dir + "/eval.json", "utf8"));
const lines = fs.readFileSync(dir + "/metrics.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l));
const last = lines[lines.length - 1];
const meta = JSON.parse(fs.readFileSync(dir + "/checkpoint/checkpoint.json", "utf8"));
const rec = { name, policy, policyConfig: JSON.parse(pc), trainFlags: extra, trainConfig: meta.info.trainConfig, params: meta.numParams,
  steps: last.step, trainSeconds: last.trainSeconds, score: ev.aggregated.avg_max_reward, success: ev.aggregated.pc_success,
  episodes: ev.per_episode ? ev.per_episode.length : 50, finishedAt: new Date().toISOString() };
fs.appendFileSync("experiments/recipe-search/results/recipe-search.jsonl", JSON.stringify(rec) + "\n");
console.log(`${name}: score ${rec.score.toFixed(3)} after ${rec.steps} steps, ${(rec.trainSeconds / 60).toFixed(1)} train-min`);
' "$name" "$policy" "$pc" "$out" "$*"
