/**
 * A Push-T recipe's spread over training seeds, each run given the same wall-clock budget:
 *
 *   npx tsx experiments/claim/seeds.ts [--policy-config '{}'] [--budget-minutes 20] [--seeds 0,1,2] [--out runs/seeds]
 *
 * One run per training seed with `scd train`'s default recipe (and the given policy config), its learning rate
 * decaying over the budget (`--schedule time`), each final checkpoint scored on Diffusion Policy's test seeds
 * 100000–100049 and on 200000–200049 (`scd eval --latency 0` of its ONNX export, 50 episodes per range): mean ±
 * standard deviation over seeds. Resumable: finished runs and evaluations are kept, an interrupted run continues with
 * --resume. Writes `<out>/seeds.json` and `<out>/seeds.md`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ROOT, rel, scd } from "../scd-cli.ts";
import { SEED_RANGES, EPISODES } from "./arms.ts";
import { hardSeedTable } from "./hard-seeds.ts";

const { values: opts } = parseArgs({
  options: { "policy-config": { type: "string", default: "{}" }, "budget-minutes": { type: "string", default: "20" }, seeds: { type: "string", default: "0,1,2" }, out: { type: "string", default: path.join(ROOT, "runs/seeds") } },
});
const policyConfig = opts["policy-config"];
const minutes = Number(opts["budget-minutes"]);
const seeds = opts.seeds.split(",").map(Number);
const out = path.resolve(opts.out);
JSON.parse(policyConfig); // one clear error for bad JSON before anything runs
if (!(minutes > 0) || seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error("--budget-minutes must be > 0 and --seeds non-negative integers");

const metrics = (dir: string): Record<string, number>[] => {
  const f = path.join(dir, "metrics.jsonl");
  return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
};

function trainRun(dir: string, seed: number): void {
  const last = metrics(dir).at(-1);
  if (last && last.wallSeconds >= minutes * 60 - 5 && fs.existsSync(path.join(dir, "checkpoint/checkpoint.json"))) return;
  const resume = fs.existsSync(path.join(dir, "checkpoints")) ? ["--resume"] : [];
  scd(["train", "--policy", "scd", "--policy-config", policyConfig, "--schedule", "time", "--max-seconds", String(minutes * 60), "--steps", "1000000", "--seed", String(seed), "--ckpt-every", "100", "--out", rel(dir), ...resume]);
}

/** The final checkpoint's score on each seed range (its ONNX export, latency 0). */
function evalRun(dir: string): { avg_max_reward: number; pc_success: number }[] {
  const onnx = path.join(dir, "onnx");
  return SEED_RANGES.map((start) => {
    const json = path.join(dir, `eval-${start}.json`);
    if (!fs.existsSync(json)) {
      if (!fs.existsSync(path.join(onnx, "manifest.json"))) scd(["export", rel(path.join(dir, "checkpoint")), "--format", "onnx", "--out", rel(onnx), "--force"]);
      scd(["eval", "--policy", rel(onnx), "--env", "pusht-v1", "--episodes", String(EPISODES), "--seed-start", String(start), "--latency", "0", "--json", rel(json)]);
    }
    return JSON.parse(fs.readFileSync(json, "utf8")).aggregated;
  });
}

const runs = seeds.map((s) => path.join(out, `seed-${s}`));
runs.forEach((d, i) => trainRun(d, seeds[i]));

const row = (dir: string) => {
  const [a, b] = evalRun(dir);
  const m = metrics(dir).at(-1)!;
  return { dir: path.relative(ROOT, dir), step: m.step, trainMinutes: m.trainSeconds / 60, s100000: a.avg_max_reward, s200000: b.avg_max_reward, success100000: a.pc_success, success200000: b.pc_success, mean: (a.avg_max_reward + b.avg_max_reward) / 2 };
};
const rows = runs.map(row);
const stats = (xs: number[]) => {
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  return { mean, sd: Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, xs.length - 1)) };
};
const spread = { s100000: stats(rows.map((r) => r.s100000)), s200000: stats(rows.map((r) => r.s200000)), mean: stats(rows.map((r) => r.mean)) };
fs.writeFileSync(path.join(out, "seeds.json"), JSON.stringify({ policyConfig: JSON.parse(policyConfig), budgetMinutes: minutes, seeds, runs: rows, spread }, null, 2) + "\n");

const f3 = (x: number) => x.toFixed(3), pm = (s: { mean: number; sd: number }) => `${f3(s.mean)} ± ${f3(s.sd)}`;
const md = [
  `Recipe: \`scd train\`'s defaults${policyConfig !== "{}" ? ` with policy config \`${policyConfig}\`` : ""}, ${minutes} minutes per run (\`--schedule time\`); scores are \`scd eval --latency 0\` of each run's ONNX export, ${EPISODES} episodes per seed range.`,
  "",
  "| training seed | steps | train min | 100000–100049 | 200000–200049 | 100 episodes |",
  "|---|---|---|---|---|---|",
  ...rows.map((r, i) => `| ${seeds[i]} | ${r.step} | ${r.trainMinutes.toFixed(1)} | ${f3(r.s100000)} (${Math.round(r.success100000)} %) | ${f3(r.s200000)} (${Math.round(r.success200000)} %) | ${f3(r.mean)} |`),
  `| mean ± sd over ${seeds.length} seeds | | | ${pm(spread.s100000)} | ${pm(spread.s200000)} | **${pm(spread.mean)}** |`,
  "",
  "Max reward on the seeds the shipped checkpoint fails (100000–100049):",
  "",
  hardSeedTable(
    [
      { label: "shipped SCD checkpoint", evalJson: path.join(ROOT, "experiments/pusht/results/pusht-scd-eval.json") },
      ...runs.map((d, i) => ({ label: `training seed ${seeds[i]}`, evalJson: path.join(d, "eval-100000.json") })),
    ],
    path.join(ROOT, "experiments/claim/results/unet-reference.json"),
  ),
].join("\n");
fs.writeFileSync(path.join(out, "seeds.md"), md + "\n");
process.stdout.write(md + "\n");
