/**
 * Score-vs-training-time curve of a pixel run (`scd train ... --keep-every N`): every kept checkpoint whose step is
 * a multiple of --every (and the run's last one) is exported to ONNX and scored on 50 Push-T test seeds from pixels
 * (`scd eval --env pusht-image-v1 --episodes 50 --seed-start 100000 --latency 0`); the curve is plotted against
 * the checkpoint's training minutes (info.trainSeconds: training steps only). Resumable: a scored step is kept.
 *
 *   npx tsx experiments/pixels/curve.ts <run dir> [--every 1000] [--episodes 50] [--final] [--out experiments/pixels/results/curve]
 *     [--label "SCD from pixels"] [--compare other/curve.json --compare-label "…"] [--x minutes|steps]
 * (--final: the run has ended, so its newest checkpoint is scored too; while it runs, that one is soon pruned;
 * --compare: another run's curve.json drawn on the same axes)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ROOT, rel, scd } from "../scd-cli.ts";
import { plotSeries } from "../../src/util/chart.ts";

const { values: opts, positionals } = parseArgs({ options: { every: { type: "string", default: "1000" }, episodes: { type: "string", default: "50" }, final: { type: "boolean", default: false }, out: { type: "string", default: path.join(ROOT, "experiments/pixels/results/curve") }, label: { type: "string", default: "SCD from pixels" }, compare: { type: "string" }, x: { type: "string", default: "minutes" }, "compare-label": { type: "string", default: "other run" } }, allowPositionals: true });
const run = positionals[0];
if (!run) {
  process.stderr.write("usage: npx tsx experiments/pixels/curve.ts <run dir> [--every 1000] [--episodes 50] [--final] [--out dir]\n");
  process.exit(2);
}
const every = Number(opts.every), episodes = opts.episodes;
if (opts.x !== "minutes" && opts.x !== "steps") throw new Error(`--x must be minutes or steps, got ${opts.x}`);
const out = path.resolve(opts.out);
fs.mkdirSync(out, { recursive: true });
const root = path.join(run, "checkpoints");
const steps = fs.readdirSync(root).filter((n) => /^\d{9}$/.test(n)).map(Number).sort((a, b) => a - b);
const last = opts.final ? steps.at(-1) : undefined;
const rows: { step: number; minutes: number; score: number; success: number }[] = [];
for (const step of steps.filter((s) => s % every === 0 || s === last)) {
  const dir = path.join(root, String(step).padStart(9, "0"));
  const json = path.join(out, `step-${step}.json`);
  if (!fs.existsSync(json)) {
    // the export sits beside the checkpoint for the evaluation, so its report names it by the run's path
    const onnx = path.join(run, "onnx-curve", String(step));
    scd(["export", rel(dir), "--format", "onnx", "--out", rel(onnx), "--force"]);
    scd(["eval", "--policy", rel(onnx), "--env", "pusht-image-v1", "--episodes", episodes, "--seed-start", "100000", "--latency", "0", "--json", rel(json)]);
    fs.rmSync(onnx, { recursive: true, force: true });
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "checkpoint.json"), "utf8"));
  const a = JSON.parse(fs.readFileSync(json, "utf8")).aggregated;
  rows.push({ step, minutes: (meta.info.trainSeconds as number) / 60, score: a.avg_max_reward, success: a.pc_success });
}
fs.writeFileSync(path.join(out, "curve.json"), JSON.stringify({ run, episodes: Number(episodes), seedStart: 100000, rows }, null, 2) + "\n");
// runs on machines of different speed compare fairly by steps; minutes show what a user waits
const xOf = (r: { step: number; minutes: number }) => (opts.x === "steps" ? r.step : r.minutes);
const other = opts.compare ? (JSON.parse(fs.readFileSync(opts.compare, "utf8")).rows as typeof rows) : [];
plotSeries(path.join(out, "curve.png"), [
  { label: `${opts.label} (EMA weights, ${episodes} test seeds per point)`, points: rows.map((r) => [xOf(r), r.score] as [number, number]), line: true },
  ...(other.length ? [{ label: opts["compare-label"], points: other.map((r) => [xOf(r), r.score] as [number, number]), line: true }] : []),
  { label: "goal 0.80", points: [[0, 0.8], [Math.max(1, ...rows.map(xOf), ...other.map(xOf)), 0.8]], line: true, color: "#999999" },
], { title: `Push-T from pixels: mean max reward vs training ${opts.x}`, xLabel: `training ${opts.x}`, yLabel: "mean score", yMin: 0, yMax: 1 });
for (const r of rows) console.log(`step ${r.step}\t${r.minutes.toFixed(1)} min\tscore ${r.score.toFixed(3)}\tsuccess ${r.success.toFixed(0)} %`);
