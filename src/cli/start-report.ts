/**
 * `npm start`'s report: one self-contained HTML page (GIFs inlined as data URIs, charts as inline SVG, so it can be
 * mailed or opened anywhere and holds from a phone to a wide screen) with the shipped checkpoint and the freshly
 * trained policy side by side, and the plain-text summary printed at the end of the run.
 */
import * as fs from "node:fs";
import { escape } from "html-escaper";
import type { EvalReport } from "../eval/evaluate.ts";
import { lineChart, episodeBars, CHART_CSS, type Line } from "./report-charts.ts";

/** One episode re-run with GIF recording: one of the best, or a failure (`max_reward` from the re-run; `reproduced` = same as in the evaluation). */
export interface BestEpisode {
  seed: number;
  kind: "best" | "failure";
  max_reward: number;
  success: boolean;
  reproduced: boolean;
  gif: string;
}

/** A run's recorded curves: loss and validation loss against step, periodic-evaluation score against minutes of training. */
export interface Curves {
  loss: [number, number][];
  valLoss: [number, number][];
  score: [number, number][];
  /** which seeds the periodic evaluations used, e.g. "seeds 100000–100019 (20 episodes)" */
  scoreSeeds: string | null;
}

/** One side of the comparison: a checkpoint, how it was trained, and its evaluation. */
export interface StartPart {
  /** the plain statement of what this is, e.g. "Shipped checkpoint, trained for 82.5 min (step 8000)" */
  title: string;
  checkpoint: string;
  step: number;
  /** seconds of training steps (null: not recorded) and where the figure came from */
  trainSeconds: number | null;
  trainSecondsSource: string;
  machine: string | null;
  details: string[];
  config: Record<string, unknown>;
  eval: EvalReport;
  best: BestEpisode[];
  curves: Curves;
}

export interface StartReport {
  createdAt: string;
  machine: string;
  backend: string;
  /** the runtime both evaluations ran on */
  runtime: string;
  budgetMinutes: number;
  wallSeconds: number;
  protocol: { env: string; episodes: number; seedStart: number; latencyMs: number; strategy: string; maxSteps: number | null };
  shipped: StartPart;
  fresh: StartPart | null;
  freshSkipped?: string;
  phases: { name: string; seconds: number }[];
}

/** Minutes with one decimal, or "unknown". */
export function minutes(s: number | null): string {
  return s === null ? "unknown" : `${(s / 60).toFixed(1)} min`;
}

const A_COLOR = "#2f5bd3", B_COLOR = "#d9822b";

function dataUri(file: string | null, mime: string): string | null {
  return file && fs.existsSync(file) ? `data:${mime};base64,${fs.readFileSync(file).toString("base64")}` : null;
}

const seedRange = (r: StartReport) => `${r.protocol.seedStart}–${r.protocol.seedStart + r.protocol.episodes - 1}`;

function gifFigure(b: BestEpisode): string {
  const src = dataUri(b.gif, "image/gif");
  const what = b.success ? "success" : "failure";
  const cap = `seed ${b.seed} · score ${b.max_reward.toFixed(3)} · ${what}${b.reproduced ? "" : " (the re-run differed from the evaluation)"}`;
  return `<figure class="gif ${b.success ? "ok" : "fail"}">${src ? `<img src="${src}" width="256" height="256" alt="${escape(`Push-T episode, ${cap}`)}">` : `<p class="note">GIF missing: ${escape(b.gif)}</p>`}<figcaption>${escape(cap)}</figcaption></figure>`;
}

function partHtml(id: string, label: string, color: string, p: StartPart | null, r: StartReport, skipped?: string): string {
  if (!p) return `<section class="part" id="${id}"><h2><i style="background:${color}"></i>${escape(label)}</h2><p class="note">${escape(skipped ?? "not run")}</p></section>`;
  const a = p.eval.aggregated;
  const nSucc = p.eval.per_episode.filter((e) => e.success).length;
  const c = p.curves;
  const loss: Line[] = [{ label: "training loss", points: c.loss, color }];
  if (c.valLoss.length) loss.push({ label: "validation loss (held-out demonstrations)", points: c.valLoss, color: "#6b7280", dashed: true, dots: c.valLoss.length === 1 });
  return `<section class="part" id="${id}">
<h2><i style="background:${color}"></i>${escape(label)}</h2>
<p class="title">${escape(p.title)}</p>
<div class="kpis"><div><b>${a.avg_max_reward.toFixed(3)}</b><span>mean score</span></div><div><b>${a.pc_success.toFixed(0)} %</b><span>success (${nSucc} of ${a.n_episodes})</span></div></div>
<h3>Episodes, re-run by seed</h3>
<div class="gifs">${p.best.map(gifFigure).join("\n") || '<p class="note">no GIFs (--gifs 0)</p>'}</div>
<h3>Score of every episode, seeds ${seedRange(r)}</h3>
${episodeBars(p.eval.per_episode.map((e) => ({ seed: e.seed, score: e.max_reward, success: e.success })), `${label}: score per episode`)}
<h3>Training loss</h3>
${c.loss.length ? lineChart(loss, { title: `${label}: loss`, xLabel: "training step", yLabel: "loss (log scale)", logY: true }) : '<p class="note">no training metrics ship with this checkpoint (no metrics.jsonl beside it)</p>'}
<table class="facts">
<tr><th>checkpoint</th><td><code>${escape(p.checkpoint)}</code>, step ${p.step}</td></tr>
<tr><th>training time</th><td>${escape(minutes(p.trainSeconds))} (${escape(p.trainSecondsSource)})</td></tr>
<tr><th>trained on</th><td>${escape(p.machine ?? "not recorded")}</td></tr>
${p.details.map((d) => `<tr><th></th><td>${escape(d)}</td></tr>`).join("\n")}
</table>
<details><summary>policy config</summary><pre>${escape(JSON.stringify(p.config, null, 1))}</pre></details>
</section>`;
}

/** Score against minutes of training: A's periodic evaluations, A's and B's final evaluations on the test seeds. */
function timeChart(r: StartReport): string {
  const A = r.shipped, B = r.fresh, n = r.protocol.episodes;
  const lines: Line[] = [];
  if (A.curves.score.length) lines.push({ label: `A during its training: ${A.curves.scoreSeeds ?? "periodic evaluations"}`, points: A.curves.score, color: A_COLOR });
  if (A.trainSeconds !== null) lines.push({ label: `A, final: seeds ${seedRange(r)} (${n} episodes)`, points: [[A.trainSeconds / 60, A.eval.aggregated.avg_max_reward]], color: A_COLOR, dots: true });
  if (B?.trainSeconds != null) lines.push({ label: `B, trained just now: seeds ${seedRange(r)} (${n} episodes)`, points: [[B.trainSeconds / 60, B.eval.aggregated.avg_max_reward]], color: B_COLOR, dots: true });
  if (!lines.length) return "";
  const last = A.curves.score.at(-1)?.[1];
  const above = last !== undefined && last > A.eval.aggregated.avg_max_reward + 0.02 ? ", easier ones for this policy: its curve ends above its final score" : "";
  const fewer = A.curves.score.length && A.curves.scoreSeeds ? ` A's curve used ${escape(A.curves.scoreSeeds)}, not all ${n} test seeds${above}.` : "";
  return `<section class="wide"><h2>Score against minutes of training</h2>
<p class="lead">Each point is a mean score (max reward) against the minutes of training steps behind it.${fewer}</p>
${lineChart(lines, { title: "score against minutes of training", xLabel: "minutes of training steps", yLabel: "mean score", yRange: [0, 1] })}</section>`;
}

const CSS = `
:root{--ink:#1c2230;--ink-2:#4b5466;--ink-3:#8b94a5;--rule:#e1e5ec;--bg:#f5f6f8;--card:#fff;--ok:#2f9460;--fail:#d1553a}
*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.wrap{max-width:1360px;margin:0 auto;padding:28px clamp(12px,3vw,36px) 48px}
h1{font-size:clamp(1.35rem,2.4vw,1.9rem);line-height:1.2;margin:0 0 .4em}h2{font-size:1.2rem;margin:0 0 .3em}h2 i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:.5em}
h3{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--ink-2);margin:1.4em 0 .5em}
.lead{color:var(--ink-2);max-width:70em;margin:.2em 0 1em}
.parts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,430px),1fr));gap:24px;align-items:start}
.part,.wide{background:var(--card);border:1px solid var(--rule);border-radius:12px;padding:18px clamp(12px,2vw,22px);min-width:0}
.wide{margin-top:24px}
.title{font-weight:600;margin:.2em 0 .8em}
.kpis{display:flex;flex-wrap:wrap;gap:12px}.kpis div{background:var(--bg);border-radius:8px;padding:8px 14px;min-width:8em}
.kpis b{display:block;font-size:1.7rem;line-height:1.2;font-variant-numeric:tabular-nums}.kpis span{color:var(--ink-2);font-size:.85rem}
.gifs{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,140px),1fr));gap:12px}
.gif{margin:0}.gif img{width:100%;height:auto;display:block;border-radius:6px;border:3px solid var(--ok)}.gif.fail img{border-color:var(--fail)}
.gif figcaption{font-size:.8rem;color:var(--ink-2);margin-top:.3em}
table.facts{width:100%;border-collapse:collapse;table-layout:fixed;margin-top:1.2em;font-size:.9rem}
.facts th{width:8.5em;text-align:left;font-weight:500;color:var(--ink-2);vertical-align:top;padding:3px 10px 3px 0}
.facts td{padding:3px 0;overflow-wrap:anywhere}
details{margin-top:.6em;font-size:.9rem}summary{cursor:pointer;color:var(--ink-2)}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);border-radius:6px;padding:8px 10px;font-size:.8rem}
code{overflow-wrap:anywhere}.note{color:var(--ink-3);font-style:italic}
footer{margin-top:24px;color:var(--ink-2);font-size:.85rem}
${CHART_CSS}`;

/** The whole page as one string; every image is inlined. */
export function startReportHtml(r: StartReport): string {
  const pr = r.protocol;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>scd-policy: the shipped Push-T policy and one trained just now</title>
<style>${CSS}</style></head><body><div class="wrap">
<h1>SCD on Push-T: the shipped policy (A) and one trained just now (B)</h1>
<p class="lead">Both are evaluated the same way: <code>${escape(pr.env)}</code>, ${pr.episodes} episodes on seeds ${seedRange(r)} (Diffusion Policy's test seeds),
at most ${pr.maxSteps ?? "?"} steps each, ${escape(pr.strategy)}, no inference latency (policy quality alone), through ${escape(r.runtime)}.
An episode's score is its maximum reward: the best coverage of the green goal by the grey T, divided by 0.95; it succeeds (and ends) above 95 % coverage.</p>
<main class="parts">
${partHtml("part-a", "A. The shipped checkpoint", A_COLOR, r.shipped, r)}
${partHtml("part-b", "B. Trained just now with the recipe", B_COLOR, r.fresh, r, r.freshSkipped)}
</main>
${timeChart(r)}
<footer>Run ${escape(r.createdAt)} on ${escape(r.machine)}, ${escape(r.backend)} backend; budget ${r.budgetMinutes} min, took ${minutes(r.wallSeconds)}
(${r.phases.map((p) => `${escape(p.name)} ${p.seconds.toFixed(0)} s`).join(", ")}).</footer>
</div></body></html>
`;
}

/** The plain-text summary for the terminal: which is which, the numbers, and the files. */
export function startSummary(r: StartReport, files: { html: string; json: string }): string {
  const part = (label: string, p: StartPart) => {
    const a = p.eval.aggregated;
    return [
      `${label}: ${p.title}`,
      `   checkpoint ${p.checkpoint}`,
      `   mean score (avg_max_reward) ${a.avg_max_reward.toFixed(3)}, success ${a.pc_success.toFixed(1)} % (${p.eval.per_episode.filter((e) => e.success).length}/${a.n_episodes})`,
      ...p.best.map((b) => `   gif: ${b.gif}   (seed ${b.seed}, max reward ${b.max_reward.toFixed(3)}, ${b.success ? "success" : "failure"})`),
    ];
  };
  const pr = r.protocol;
  return [
    `Push-T (${pr.env}), ${pr.episodes} episodes each, seeds ${seedRange(r)}, latency ${pr.latencyMs} ms, ${pr.strategy}, through ${r.runtime}:`,
    ...part("A. SHIPPED", r.shipped),
    ...(r.fresh ? part("B. TRAINED JUST NOW", r.fresh) : [`B. TRAINED JUST NOW: ${r.freshSkipped ?? "not run"}`]),
    `report: ${files.html}   (one self-contained page with the GIFs, per-episode scores and training curves: open it in a browser)`,
    `        ${files.json}`,
    `took ${minutes(r.wallSeconds)} of a ${r.budgetMinutes} min budget`,
  ].join("\n");
}
