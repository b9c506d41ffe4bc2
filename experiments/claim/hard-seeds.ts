/**
 * The seeds the shipped SCD checkpoint fails on Diffusion Policy's test range (issue 19), per policy: max reward of
 * each episode, from `scd eval --json` reports (per_episode), beside the PyTorch U-Net reference
 * (results/unet-reference.json). Which failures are shared by every recipe, and which one recipe solves.
 */
import * as fs from "node:fs";

export const HARD_SEEDS = [100010, 100024, 100026, 100027, 100037, 100038, 100049];

/** Max reward per seed from an `scd eval --json` report (or an object of reports). */
export function maxRewardBySeed(evalJson: string): Map<number, number> {
  type Report = { per_episode: { seed: number; max_reward: number }[] };
  const j = JSON.parse(fs.readFileSync(evalJson, "utf8")) as Report | Record<string, Report>;
  // one report, or several keyed by their first seed (experiments/pusht/results/pusht-scd-eval.json)
  const reports = "per_episode" in j ? [j as Report] : Object.values(j as Record<string, Report>);
  return new Map(reports.flatMap((r) => r.per_episode.map((e) => [e.seed, e.max_reward] as [number, number])));
}

/** A markdown table: one row per labelled report (label → eval JSON of seeds 100000–100049), plus the U-Net reference. */
export function hardSeedTable(rows: { label: string; evalJson: string }[], referenceJson: string): string {
  const ref = JSON.parse(fs.readFileSync(referenceJson, "utf8")) as { max_reward: Record<string, number> };
  const fmt = (v: number | undefined) => (v === undefined ? "–" : v >= 0.95 ? `**${v.toFixed(2)}**` : v.toFixed(2));
  const lines = [
    `| policy | ${HARD_SEEDS.join(" | ")} | solved (≥ 0.95) |`,
    `|---|${HARD_SEEDS.map(() => "---").join("|")}|---|`,
    ...rows.map(({ label, evalJson }) => {
      const m = maxRewardBySeed(evalJson);
      const vals = HARD_SEEDS.map((s) => m.get(s));
      return `| ${label} | ${vals.map(fmt).join(" | ")} | ${vals.filter((v) => (v ?? 0) >= 0.95).length} of ${HARD_SEEDS.length} |`;
    }),
    (() => {
      const vals = HARD_SEEDS.map((s) => ref.max_reward[String(s)]);
      return `| Diffusion-Policy U-Net, PyTorch, 82 min (reference) | ${vals.map(fmt).join(" | ")} | ${vals.filter((v) => (v ?? 0) >= 0.95).length} of ${HARD_SEEDS.length} |`;
    })(),
  ];
  return lines.join("\n") + "\n";
}
