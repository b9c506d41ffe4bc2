/**
 * The seed paper's claim on Push-T, like for like, in one command:
 *
 *   npx tsx experiments/claim/run.ts [--steps 2000] [--seeds 0,1,2] [--arms scd-t,entangled,…] [--out runs/claim] [--latency FILE]
 *
 * For every training seed and arm (experiments/claim/arms.ts) it trains with `scd train` (same recipe, data, history,
 * window, batch; `--steps` steps, or for an equal-wall-clock arm as many steps as fit in its reference arm's training
 * time at its own measured pace), evaluates the final checkpoint's ONNX export with `scd eval --latency 0` on 50
 * episodes of each seed range, then measures per-frame latency (`npm run bench -- claim`) and writes `<out>/claim.json` and
 * `<out>/claim.md` (the README's table). Every step is resumable: a finished training or evaluation is kept, an
 * interrupted training continues with `--resume`, so running the command again picks up where it stopped.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ROOT, rel, scd } from "../scd-cli.ts";
import { ARMS, RECIPE, SEED_RANGES, EPISODES, inferenceKey, type Arm } from "./arms.ts";
import { armTable, type ArmResult } from "./table.ts";
import { hardSeedTable } from "./hard-seeds.ts";

const { values: opts } = parseArgs({
  options: { steps: { type: "string", default: "2000" }, seeds: { type: "string", default: "0" }, arms: { type: "string", default: ARMS.map((a) => a.id).join(",") }, out: { type: "string", default: path.join(ROOT, "runs/claim") }, latency: { type: "string", default: "" } },
});
const steps = Number(opts.steps);
const seeds = opts.seeds.split(",").map(Number);
const armIds = opts.arms.split(",");
const out = path.resolve(opts.out);
for (const id of armIds) if (!ARMS.some((a) => a.id === id)) throw new Error(`unknown arm "${id}"; arms: ${ARMS.map((a) => a.id).join(", ")}`);
if (!(Number.isInteger(steps) && steps > 0) || seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--steps must be a positive integer and --seeds non-negative integers`);

/** The last metrics line of a run directory, or null. */
function lastMetrics(dir: string): { step: number; trainSeconds: number } | null {
  const f = path.join(dir, "metrics.jsonl");
  if (!fs.existsSync(f)) return null;
  const lines = fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean);
  try {
    return lines.length ? JSON.parse(lines.at(-1)!) : null;
  } catch {
    return null;
  }
}

const stepOf = (dir: string): number => {
  const f = path.join(dir, "checkpoint", "checkpoint.json");
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, "utf8")).step as number) : 0;
};

/** Steps for an equal-wall-clock arm: its reference's training seconds at this arm's own pace (from its equal-steps twin). */
function equalTimeSteps(arm: Arm, seedDir: string): number {
  const ref = lastMetrics(path.join(seedDir, arm.equalTimeTo!));
  const twin = ARMS.find((a) => !a.equalTimeTo && a.policy === arm.policy && JSON.stringify(a.policyConfig) === JSON.stringify(arm.policyConfig));
  const pace = twin ? lastMetrics(path.join(seedDir, twin.id)) : null;
  if (!ref || !pace) throw new Error(`${arm.id}: train ${arm.equalTimeTo} and ${twin?.id ?? "its equal-steps twin"} first`);
  return Math.max(1, Math.floor(ref.trainSeconds / (pace.trainSeconds / pace.step)));
}

function trainArm(arm: Arm, seed: number, seedDir: string): void {
  const dir = path.join(seedDir, arm.id);
  // an arm whose evaluations are kept needs no checkpoint (results copied without their runs regenerate the table)
  if (SEED_RANGES.every((s) => fs.existsSync(path.join(dir, `eval-${s}.json`)))) return;
  const n = arm.equalTimeTo ? equalTimeSteps(arm, seedDir) : steps;
  if (stepOf(dir) >= n) return;
  const recipe = Object.entries({ ...RECIPE }).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`, String(v)]);
  scd(["train", "--policy", arm.policy, "--policy-config", JSON.stringify(arm.policyConfig), "--steps", String(n), "--seed", String(seed), ...recipe, "--ckpt-every", "100", "--out", rel(dir), ...(fs.existsSync(path.join(dir, "checkpoints")) ? ["--resume"] : [])]);
}

/**
 * Every arm is evaluated through its ONNX export on ONNX Runtime (the same runtime for all arms; 5–10× faster than
 * tfjs for the transformer decoders, so 100 episodes per arm fit the budget).
 */
function evalArm(arm: Arm, seedDir: string): void {
  const dir = path.join(seedDir, arm.id);
  const onnx = path.join(dir, "onnx");
  for (const start of SEED_RANGES) {
    const json = path.join(dir, `eval-${start}.json`);
    if (fs.existsSync(json)) continue;
    if (!fs.existsSync(path.join(onnx, "manifest.json"))) scd(["export", rel(path.join(dir, "checkpoint")), "--format", "onnx", "--out", rel(onnx), "--force"]);
    scd(["eval", "--policy", rel(onnx), "--env", "pusht-v1", "--episodes", String(EPISODES), "--seed-start", String(start), "--latency", "0", "--json", rel(json)]);
  }
}

const arms = ARMS.filter((a) => armIds.includes(a.id));
for (const seed of seeds) {
  const seedDir = path.join(out, `seed-${seed}`);
  for (const arm of arms) {
    trainArm(arm, seed, seedDir);
    evalArm(arm, seedDir);
  }
}
// latency: one process, after the training (it loads no checkpoint: latency does not depend on the weights), or a
// saved `npm run bench -- claim --json` output (--latency FILE: re-tabulating kept results needs no new measurement)
const savedLatency = opts.latency;
let benchJson: string;
if (savedLatency) benchJson = fs.readFileSync(savedLatency, "utf8");
else {
  const bench = spawnSync("npm", ["run", "-s", "bench", "--", "claim", "--json"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (bench.status !== 0) throw new Error(`npm run bench -- claim failed (exit ${bench.status})`);
  benchJson = bench.stdout;
}
const lat = JSON.parse(benchJson).claim as Record<string, { params: number; tfjsMs: number; onnxMs: number }>;
if (!lat) throw new Error(`${savedLatency || "npm run bench -- claim"}: no "claim" object (expected the bench's --json output)`);
const results: ArmResult[] = arms.map((arm) => ({
  arm,
  seeds: seeds.map((seed) => {
    const dir = path.join(out, `seed-${seed}`, arm.id);
    const m = lastMetrics(dir);
    const scores = SEED_RANGES.map((s) => JSON.parse(fs.readFileSync(path.join(dir, `eval-${s}.json`), "utf8")).aggregated as { avg_max_reward: number; pc_success: number });
    return { seed, step: m?.step ?? 0, trainMinutes: (m?.trainSeconds ?? 0) / 60, scores };
  }),
  latency: lat[ARMS.find((a) => inferenceKey(a) === inferenceKey(arm))!.id], // the bench measured the first arm of each graph
}));
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "claim.json"), JSON.stringify({ steps, seeds, recipe: RECIPE, seedRanges: SEED_RANGES, episodes: EPISODES, latency: lat, results }, null, 2) + "\n");
const hard = hardSeedTable(
  [
    { label: "shipped SCD checkpoint", evalJson: path.join(ROOT, "experiments/pusht/results/pusht-scd-eval.json") },
    { label: "SCD, all 206 demonstrations, 6,500 steps (claim-a)", evalJson: path.join(ROOT, "experiments/claim/results/claim-a/eval-100000.json") },
    ...arms.map((arm) => ({ label: `${arm.id} (seed ${seeds[0]})`, evalJson: path.join(out, `seed-${seeds[0]}`, arm.id, "eval-100000.json") })),
  ],
  path.join(ROOT, "experiments/claim/results/unet-reference.json"),
);
const md = armTable(results, lat) + "\nMax reward on the seeds the shipped checkpoint fails (100000–100049):\n\n" + hard;
fs.writeFileSync(path.join(out, "claim.md"), md);
process.stdout.write(md);
