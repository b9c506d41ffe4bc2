/**
 * Score-vs-training-time curve of a run trained with --eval-every: reads <run>/metrics.jsonl (evalAvgMaxReward at
 * each evaluation, trainSeconds = training time without evaluations and checkpoints), writes a PNG beside the
 * PyTorch Diffusion-Policy U-Net reference of issue 9, and prints the first time each threshold was reached.
 * Usage: npx tsx experiments/pusht/curve-report.ts <run dir> <out.png> [label] [--final <minutes>,<score>,<label>]
 * (--final adds a separately measured point, e.g. the full 50-seed evaluation of the final checkpoint)
 */
import * as fs from "node:fs";
import { plotSeries } from "../../src/util/chart.ts";

const args = process.argv.slice(2);
const fi = args.indexOf("--final");
const finals = fi >= 0 ? args.splice(fi, 2)[1].split(";").map((f) => f.split(",")) : [];
const [dir, png, label = dir] = args;
if (!dir || !png) {
  process.stderr.write("usage: npx tsx experiments/pusht/curve-report.ts <run dir> <out.png> [label]\n");
  process.exit(2);
}
const PYTORCH_UNET: [number, number][] = [[1.5, 0.144], [2.7, 0.193], [5.2, 0.321], [15, 0.777], [30, 0.901], [45, 0.921], [82, 0.932]];
// one row per step (the last line written for it wins), evaluations only
const byStep = new Map<number, { step: number; trainSeconds: number; evalAvgMaxReward?: number; evalPcSuccess: number; evalEpisodes?: number }>();
for (const l of fs.readFileSync(`${dir}/metrics.jsonl`, "utf8").trim().split("\n")) {
  const m = JSON.parse(l);
  byStep.set(m.step, m);
}
const rows = [...byStep.values()].filter((m) => m.evalAvgMaxReward !== undefined).sort((a, b) => a.step - b.step) as { step: number; trainSeconds: number; evalAvgMaxReward: number; evalPcSuccess: number; evalEpisodes?: number }[];
// the run's own setting (checkpoint.json records the training config), else the metrics line's, else 20
const ckptJson = `${dir}/checkpoint/checkpoint.json`;
const evalEpisodes = (fs.existsSync(ckptJson) ? (JSON.parse(fs.readFileSync(ckptJson, "utf8")).info?.trainConfig?.evalEpisodes as number | undefined) : undefined) ?? rows[0]?.evalEpisodes ?? 20;
const pts = rows.map((m) => [m.trainSeconds / 60, m.evalAvgMaxReward] as [number, number]);
plotSeries(png, [
  { label: "PyTorch DP U-Net reference (50 seeds, same machine kind)", points: PYTORCH_UNET, line: true, color: "#999999" },
  { label: `${label} (EMA weights, first ${evalEpisodes} test seeds per point)`, points: pts, line: true },
  ...finals.map(([m, sc, l]) => ({ label: l, points: [[Number(m), Number(sc)]] as [number, number][], color: "#111111" })),
], { title: "Push-T: mean max reward vs training minutes (this machine)", xLabel: "training minutes", yLabel: "score", yMin: 0, yMax: 1 });
for (const thr of [0.5, 0.75, 0.9]) {
  const hit = rows.find((m) => m.evalAvgMaxReward >= thr);
  console.log(`first ≥ ${thr}: ${hit ? `${(hit.trainSeconds / 60).toFixed(1)} training minutes (step ${hit.step}, score ${hit.evalAvgMaxReward.toFixed(3)})` : "not reached"}`);
}
for (const m of rows) console.log(`step ${m.step}\t${(m.trainSeconds / 60).toFixed(1)} min\tscore ${m.evalAvgMaxReward.toFixed(3)}\tsuccess ${m.evalPcSuccess.toFixed(0)} %`);
