/**
 * Turns experiments/recipe-search/results/recipe-search.jsonl (one record per `experiments/recipe-search/recipe-run.sh` run) into experiments/recipe-search/results/recipe-search.md (a
 * table sorted by score per train-minute budget) and experiments/recipe-search/results/recipe-search.png (score vs train-minutes, with the
 * PyTorch Diffusion-Policy U-Net reference curve of issue 9). Usage: npx tsx experiments/recipe-search/recipe-report.ts
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { plotSeries } from "../../src/util/chart.ts";

const dir = path.join(import.meta.dirname, "results");
const recs = fs.readFileSync(path.join(dir, "recipe-search.jsonl"), "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
// the same-machine PyTorch reference (issue 9): minutes of single-threaded training → mean score on the 50 test seeds
export const PYTORCH_UNET: [number, number][] = [[1.5, 0.144], [2.7, 0.193], [5.2, 0.321], [15, 0.777], [30, 0.901], [45, 0.921], [82, 0.932]];
const latest = new Map<string, (typeof recs)[number]>();
for (const r of recs) latest.set(r.name, r); // a re-run replaces its earlier record
const rows = [...latest.values()].sort((a, b) => b.score - a.score);
const cfgStr = (r: (typeof rows)[number]) => [JSON.stringify(r.policyConfig).replace(/"/g, ""), r.trainFlags].filter(Boolean).join(" ");
const md = [
  "| run | policy | settings (policy config; train flags) | params | train min | steps | ms/step | score (50 seeds) | success |",
  "|---|---|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.name} | ${r.policy} | ${cfgStr(r)} | ${r.params.toLocaleString("en")} | ${(r.trainSeconds / 60).toFixed(1)} | ${r.steps} | ${((1000 * r.trainSeconds) / r.steps).toFixed(0)} | ${r.score.toFixed(3)} | ${r.success.toFixed(0)} % |`),
].join("\n");
fs.writeFileSync(path.join(dir, "recipe-search.md"), `# Push-T recipe search (issue 9)\n\nEvery run: \`experiments/recipe-search/recipe-run.sh\`; table and plot: \`npx tsx experiments/recipe-search/recipe-report.ts\`.\n\n${md}\n`);
plotSeries(path.join(dir, "recipe-search.png"), [
  { label: "PyTorch DP U-Net reference (same machine kind)", points: PYTORCH_UNET, line: true, color: "#999999" },
  ...rows.map((r) => ({ label: `${r.name} ${r.score.toFixed(2)}`, points: [[r.trainSeconds / 60, r.score]] as [number, number][] })),
], { title: "Push-T recipe search: mean max reward (50 test seeds) vs training minutes", xLabel: "training minutes (this machine)", yLabel: "score", yMin: 0, yMax: 1 });
console.log(md);
