/**
 * `npm start`'s report: one self-contained HTML page (GIFs and plots inlined as data URIs, so it can be mailed or
 * opened anywhere) with the shipped checkpoint and the freshly trained policy side by side, and the plain-text
 * summary printed at the end of the run.
 */
import * as fs from "node:fs";
import { escape } from "html-escaper";
import type { EvalReport } from "../eval/evaluate.ts";

/** One chosen episode re-run with GIF recording (`max_reward` from the re-run; `reproduced` = same as in the evaluation). */
export interface BestEpisode {
  seed: number;
  max_reward: number;
  success: boolean;
  reproduced: boolean;
  gif: string;
}

/** One side of the comparison: a checkpoint, how it was trained, and its evaluation. */
export interface StartPart {
  /** the plain statement of what this is, e.g. "Shipped checkpoint (trained for 52 min on …, step 2000)" */
  title: string;
  checkpoint: string;
  step: number;
  /** seconds of training steps (null: not recorded) and where the figure came from */
  trainSeconds: number | null;
  trainSecondsSource: string;
  machine: string | null;
  details: string[];
  eval: EvalReport;
  best: BestEpisode[];
  plot: string | null;
  lossCurve: string | null;
  /** score of the periodic evaluations during training against minutes of training (null: none recorded) */
  scoreCurve: string | null;
}

export interface StartReport {
  createdAt: string;
  machine: string;
  backend: string;
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

function dataUri(file: string | null, mime: string): string | null {
  return file && fs.existsSync(file) ? `data:${mime};base64,${fs.readFileSync(file).toString("base64")}` : null;
}

function partHtml(label: string, p: StartPart | null, skipped?: string): string {
  if (!p) return `<section><h2>${escape(label)}</h2><p class="note">${escape(skipped ?? "not run")}</p></section>`;
  const a = p.eval.aggregated;
  const nSucc = p.eval.per_episode.filter((e) => e.success).length;
  const gifs = p.best
    .map((b) => {
      const src = dataUri(b.gif, "image/gif");
      const cap = `seed ${b.seed}: max reward ${b.max_reward.toFixed(3)}${b.success ? " — success" : ""}${b.reproduced ? "" : " (re-run differed from the evaluation)"}`;
      return `<figure>${src ? `<img src="${src}" width="256" height="256" alt="${escape(cap)}">` : `<p class="note">GIF missing: ${escape(b.gif)}</p>`}<figcaption>${escape(cap)}</figcaption></figure>`;
    })
    .join("\n");
  const img = (file: string | null, alt: string, missing: string) => {
    const src = dataUri(file, "image/png");
    return src ? `<img class="plot" src="${src}" alt="${escape(alt)}">` : `<p class="note">${escape(missing)}</p>`;
  };
  return `<section>
<h2>${escape(label)}</h2>
<p class="title">${escape(p.title)}</p>
<table>
<tr><th>mean score (avg max reward)</th><td class="big">${a.avg_max_reward.toFixed(3)}</td></tr>
<tr><th>success rate (coverage &gt; 95 %)</th><td class="big">${a.pc_success.toFixed(1)} % (${nSucc} / ${a.n_episodes})</td></tr>
<tr><th>checkpoint</th><td><code>${escape(p.checkpoint)}</code>, step ${p.step}</td></tr>
<tr><th>training time</th><td>${escape(minutes(p.trainSeconds))} (${escape(p.trainSecondsSource)})</td></tr>
<tr><th>trained on</th><td>${escape(p.machine ?? "unknown")}</td></tr>
${p.details.map((d) => `<tr><th></th><td>${escape(d)}</td></tr>`).join("\n")}
</table>
<h3>Its best episodes (highest max reward, re-run by seed with recording)</h3>
<div class="gifs">${gifs || '<p class="note">no episodes</p>'}</div>
<h3>Score of every episode</h3>
${img(p.plot, "per-episode scores", "no score plot")}
<h3>Training loss</h3>
${img(p.lossCurve, "loss curve", "no training metrics ship with this checkpoint (no metrics.jsonl beside it)")}
${p.scoreCurve ? `<h3>Score during training (periodic evaluations)</h3>\n${img(p.scoreCurve, "score vs training time", "")}` : ""}
</section>`;
}

/** The whole page as one string; every image is inlined. */
export function startReportHtml(r: StartReport): string {
  const pr = r.protocol;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>scd-policy: npm start report</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
main{display:grid;grid-template-columns:1fr 1fr;gap:2em}
section{min-width:0}
h2{margin-bottom:.2em}
.title{font-weight:600;background:#eef3fb;padding:.4em .6em;border-radius:4px}
table{border-collapse:collapse;margin:.5em 0}th{text-align:left;font-weight:normal;color:#555;padding:2px 1em 2px 0;vertical-align:top}
.big{font-size:1.3em;font-weight:600}
.gifs{display:flex;flex-wrap:wrap;gap:.8em}figure{margin:0}figcaption{font-size:.85em;color:#444;max-width:256px}
img.plot{max-width:100%}
.note{color:#777;font-style:italic}
</style></head><body>
<h1>SCD on Push-T: the shipped checkpoint and a policy trained just now</h1>
<p>Both policies are evaluated the same way: <code>${escape(pr.env)}</code>, ${pr.episodes} episodes with seeds ${pr.seedStart}–${pr.seedStart + pr.episodes - 1}
(Diffusion Policy's test seeds), at most ${pr.maxSteps ?? "?"} steps, ${escape(pr.strategy)}, inference latency ${pr.latencyMs} ms (pure policy quality).
The score of an episode is its maximum reward, i.e. the best coverage of the goal by the T divided by 0.95; an episode succeeds (and ends) at coverage above 95 %.</p>
<p>Run on ${escape(r.machine)}, ${escape(r.backend)} backend, ${escape(r.createdAt)}; budget ${r.budgetMinutes} min, took ${minutes(r.wallSeconds)}
(${r.phases.map((p) => `${escape(p.name)} ${p.seconds.toFixed(0)} s`).join(", ")}).</p>
<main>
${partHtml("A. The shipped checkpoint", r.shipped)}
${partHtml("B. Trained just now with the best recipe", r.fresh, r.freshSkipped)}
</main>
</body></html>
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
      ...p.best.map((b) => `   gif: ${b.gif}   (seed ${b.seed}, max reward ${b.max_reward.toFixed(3)}${b.success ? ", success" : ""})`),
      ...(p.plot ? [`   score plot: ${p.plot}`] : []),
      `   loss curve: ${p.lossCurve ?? "none (no training metrics ship with this checkpoint)"}`,
      ...(p.scoreCurve ? [`   score vs training time: ${p.scoreCurve}`] : []),
    ];
  };
  const pr = r.protocol;
  return [
    `Push-T (${pr.env}), ${pr.episodes} episodes each, seeds ${pr.seedStart}–${pr.seedStart + pr.episodes - 1}, latency ${pr.latencyMs} ms, ${pr.strategy}:`,
    ...part("A. SHIPPED", r.shipped),
    ...(r.fresh ? part("B. TRAINED JUST NOW", r.fresh) : [`B. TRAINED JUST NOW: ${r.freshSkipped ?? "not run"}`]),
    `report: ${files.html}   (one self-contained page: open it in a browser)`,
    `        ${files.json}`,
    `took ${minutes(r.wallSeconds)} of a ${r.budgetMinutes} min budget`,
  ].join("\n");
}
