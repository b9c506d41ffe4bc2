/**
 * Chunk execution strategies under inference delay, on Push-T (issue "Real time"): for each strategy (receding,
 * ensemble, async, rtc) and fixed inference delay (0–3 control periods), `scd eval --latency <ms>` of one policy on
 * 50 seeded episodes; score and chunk-boundary jerk (mean |Δa| across a chunk switch over the mean inside chunks).
 * Writes <out>/realtime.json, <out>/realtime.md (the README's table) and <out>/realtime.png.
 *
 *   npx tsx experiments/realtime/run.ts [--policy assets/checkpoints/scd-pusht] [--latencies 0,100,200,300] \
 *     [--strategies receding,ensemble,async,rtc] [--episodes 50] [--steps K] [--out experiments/realtime/results]
 *
 * `--latencies measured` charges each chunk its real inference time (a slow policy: e.g. the checkpoint on tfjs with
 * `--steps 200`); its column is headed by the measured median.
 *
 * Resumable: an evaluation whose JSON exists is kept.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { plotSeries } from "../../src/util/chart.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { values: opts } = parseArgs({
  options: {
    policy: { type: "string", default: "assets/checkpoints/scd-pusht" }, latencies: { type: "string", default: "0,100,200,300" }, steps: { type: "string", default: "" },
    strategies: { type: "string", default: "receding,ensemble,async,rtc" }, episodes: { type: "string", default: "50" }, "seed-start": { type: "string", default: "100000" },
    out: { type: "string", default: path.join(ROOT, "experiments/realtime/results") },
  },
});
const policy = opts.policy;
const latencies = opts.latencies.split(",");
const steps = opts.steps;
const strategies = opts.strategies.split(",");
const episodes = opts.episodes;
const seedStart = opts["seed-start"];
const out = path.resolve(opts.out);
fs.mkdirSync(out, { recursive: true });

interface Row { strategy: string; latency: string; inferenceMsP50: number; score: number; success: number; jerk: number | null; json: string }
const rows: Row[] = [];
for (const strategy of strategies)
  for (const lat of latencies) {
    const json = path.join(out, lat === "measured" ? `${strategy}-measured.json` : `${strategy}-${lat}ms.json`);
    if (!fs.existsSync(json)) {
      const argv = ["eval", "--policy", policy, "--env", "pusht-v1", "--episodes", episodes, "--seed-start", seedStart, "--latency", lat, "--strategy", strategy, "--json", path.relative(ROOT, json), ...(steps ? ["--steps", steps] : [])];
      process.stderr.write(`$ scd ${argv.join(" ")}\n`);
      const r = spawnSync(process.execPath, [path.join(ROOT, "bin/scd.js"), ...argv], { cwd: ROOT, stdio: "inherit" });
      if (r.status !== 0) throw new Error(`scd eval failed (exit ${r.status}) for ${strategy} at ${lat} ms`);
    }
    const rep = JSON.parse(fs.readFileSync(json, "utf8")) as { aggregated: { avg_max_reward: number; pc_success: number; boundary_jerk?: number | null }; loop?: { inferenceMs?: { p50: number } } };
    const a = rep.aggregated;
    rows.push({ strategy, latency: lat, inferenceMsP50: rep.loop?.inferenceMs?.p50 ?? NaN, score: a.avg_max_reward, success: a.pc_success, jerk: a.boundary_jerk ?? null, json: path.relative(ROOT, json) });
  }

const head = (l: string) => {
  if (l !== "measured") return `${l} ms`;
  const p50 = rows.filter((r) => r.latency === l).map((r) => r.inferenceMsP50).sort((a, b) => a - b);
  return `measured (median ${p50[Math.floor(p50.length / 2)].toFixed(0)} ms)`;
};
const f = (v: number | null, d = 3) => (v === null || !Number.isFinite(v) ? "–" : v.toFixed(d));
const md = [
  `Push-T, \`${policy}\`${steps ? ` at K = ${steps}` : ""}, ${episodes} episodes from seed ${seedStart}; score (avg_max_reward) / boundary jerk (× within-chunk) per inference delay:`,
  "",
  `| strategy | ${latencies.map(head).join(" | ")} |`,
  `|---|${latencies.map(() => "---").join("|")}|`,
  ...strategies.map((s) => `| ${s} | ${latencies.map((l) => { const r = rows.find((x) => x.strategy === s && x.latency === l)!; return `${f(r.score)} / ${f(r.jerk, 2)}×`; }).join(" | ")} |`),
  "",
].join("\n");
fs.writeFileSync(path.join(out, "realtime.json"), JSON.stringify({ policy, steps: steps ? Number(steps) : undefined, episodes: Number(episodes), seedStart: Number(seedStart), rows }, null, 2) + "\n");
fs.writeFileSync(path.join(out, "realtime.md"), md);
plotSeries(path.join(out, "realtime.png"), strategies.map((s) => ({ label: s, line: true, points: rows.filter((r) => r.strategy === s && r.latency !== "measured").map((r) => [Number(r.latency), r.score] as [number, number]) })), { title: `Push-T score vs inference delay (${episodes} episodes from seed ${seedStart})`, xLabel: "inference delay (ms)", yLabel: "mean score (avg_max_reward)", yMin: 0, yMax: 1 });
process.stdout.write(md);
