/**
 * How Push-T episodes fail: from `scd eval --record run.scdd --json run.json` recordings, per episode the share of
 * steps in which the block moves (the agent is pushing it) and the share of 10-step windows in which the agent
 * dithers (travels ≥ 30 px but ends < 10 px from where it started), for successful and failed episodes and for
 * the seeds the shipped checkpoint fails.
 *
 *   npx tsx experiments/claim/stalls.ts <label>=<run.scdd>,<label>=<run.scdd> [--out experiments/claim/results/stalls.md]
 *
 * (each .scdd with its .json beside it, as `scd eval --record x.scdd --json x.json` writes them)
 */
import * as fs from "node:fs";
import { readDataset } from "../../src/datasets/native.ts";
import { episodeStart } from "../../src/datasets/episodes.ts";
import { HARD_SEEDS } from "./hard-seeds.ts";

const args = process.argv.slice(2);
const runs = args[0].split(",").map((s) => s.split("=") as [string, string]);
const outIdx = args.indexOf("--out");
const out = outIdx >= 0 ? args[outIdx + 1] : null;
const W = 10, PATH_PX = 30, NET_PX = 10, MOVE_PX = 0.5;

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const lines = [
  `Per episode: share of steps in which the block moves (pushed), and share of ${W}-step windows in which the agent dithers (travels ≥ ${PATH_PX} px, ends < ${NET_PX} px from its start); Push-T seeds 100000–100049, \`scd eval --latency 0\`; pushed / dithering:`,
  "",
  `| policy | mean score | successful episodes | failed episodes | ${HARD_SEEDS.join(" | ")} |`,
  `|---|---|---|---|${HARD_SEEDS.map(() => "---").join("|")}|`,
];
for (const [label, file] of runs) {
  const { buffer } = readDataset(file);
  const report = JSON.parse(fs.readFileSync(file.replace(/\.scdd$/, ".json"), "utf8")) as { aggregated: { avg_max_reward: number }; per_episode: { seed: number; success: boolean; max_reward: number }[] };
  const pos = buffer.data["observation.agent_pos"], kp = buffer.data["observation.keypoints"];
  const stats = Array.from(buffer.episodeEnds, (end, k) => {
    const s = episodeStart(buffer.episodeEnds, k);
    let pushed = 0, windows = 0, dither = 0;
    for (let t = s + 1; t < end; t++) {
      let moved = 0;
      for (let j = 0; j < 18; j++) moved = Math.max(moved, Math.abs(kp[18 * t + j] - kp[18 * (t - 1) + j]));
      if (moved > MOVE_PX) pushed++;
    }
    for (let t = s; t + W < end; t += W) {
      let path = 0;
      for (let u = t + 1; u <= t + W; u++) path += Math.hypot(pos[2 * u] - pos[2 * u - 2], pos[2 * u + 1] - pos[2 * u - 1]);
      windows++;
      if (path >= PATH_PX && Math.hypot(pos[2 * (t + W)] - pos[2 * t], pos[2 * (t + W) + 1] - pos[2 * t + 1]) < NET_PX) dither++;
    }
    return { pushed: pushed / Math.max(1, end - s - 1), dither: dither / Math.max(1, windows) };
  });
  const eps = report.per_episode;
  const pc = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "–" : `${Math.round(100 * v)} %`);
  const both = (xs: { pushed: number; dither: number }[]) => `${pc(mean(xs.map((x) => x.pushed)))} / ${pc(mean(xs.map((x) => x.dither)))} (${xs.length})`;
  const ok = eps.flatMap((e, k) => (e.success ? [stats[k]] : [])), bad = eps.flatMap((e, k) => (!e.success ? [stats[k]] : []));
  const bySeed = new Map(eps.map((e, k) => [e.seed, stats[k]]));
  lines.push(`| ${label} | ${report.aggregated.avg_max_reward.toFixed(3)} | ${both(ok)} | ${both(bad)} | ${HARD_SEEDS.map((s) => { const x = bySeed.get(s); return x ? `${pc(x.pushed)} / ${pc(x.dither)}` : "–"; }).join(" | ")} |`);
}
const md = lines.join("\n") + "\n";
if (out) fs.writeFileSync(out, md);
process.stdout.write(md);
