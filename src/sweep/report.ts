/**
 * Collect a sweep's finished runs into one table (settings, train time, mean score, success, latency) and a
 * plot; unfinished runs are listed with what is missing, never averaged in.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createCanvas } from "@napi-rs/canvas";
import { writeFileAtomic } from "../util/fsx.ts";
import { describeOverrides, type Sweep } from "./grid.ts";
import type { TrainRecord } from "./run.ts";

export interface SweepRow {
  index: number;
  overrides: Record<string, unknown>;
  step: number;
  steps: number;
  train_s: number;
  stopped: TrainRecord["stopped"];
  /** Diffusion Policy's mean score (avg_max_reward) */
  avg_max_reward: number;
  pc_success: number;
  n_episodes: number;
  /** per-chunk inference wall time, median (ms) */
  inference_ms_p50: number;
}

export interface SweepReport {
  sweep: string;
  rows: SweepRow[];
  /** runs left out, with the reason */
  unfinished: { index: number; reason: string }[];
}

const readJson = (f: string) => JSON.parse(fs.readFileSync(f, "utf8"));

export function collectSweep(s: Sweep): SweepReport {
  const rows: SweepRow[] = [], unfinished: SweepReport["unfinished"] = [];
  for (const run of s.runs) {
    const ev = path.join(run.dir, "eval.json"), tr = path.join(run.dir, "train.json");
    if (!fs.existsSync(ev) || !fs.existsSync(tr)) {
      const ckpt = path.join(run.dir, "checkpoint", "checkpoint.json");
      const reason = fs.existsSync(tr) ? "trained, not yet evaluated"
        : fs.existsSync(ckpt) ? `training (checkpoint at step ${readJson(ckpt).step} of ${run.train.steps})`
        : "not started";
      unfinished.push({ index: run.index, reason });
      continue;
    }
    const t = readJson(tr) as TrainRecord, e = readJson(ev);
    rows.push({
      index: run.index, overrides: run.overrides, step: t.step, steps: t.steps, train_s: t.seconds, stopped: t.stopped,
      avg_max_reward: e.aggregated.avg_max_reward, pc_success: e.aggregated.pc_success, n_episodes: e.aggregated.n_episodes,
      inference_ms_p50: e.loop.inferenceMs.p50,
    });
  }
  return { sweep: s.file, rows, unfinished };
}

/** A Markdown table, one column per grid axis. */
export function formatSweepTable(s: Sweep, r: SweepReport): string {
  const head = ["run", ...s.axes, "steps", "train time", "mean score", "success", "episodes", "inference ms (p50)"];
  const fmtT = (x: number) => (x >= 3600 ? `${(x / 3600).toFixed(1)} h` : x >= 60 ? `${(x / 60).toFixed(1)} min` : `${x.toFixed(0)} s`);
  const lines = r.rows.map((w) => [
    String(w.index), ...s.axes.map((a) => (a in w.overrides ? JSON.stringify(w.overrides[a]) : "")),
    `${w.step}${w.stopped === "budget" ? ` of ${w.steps} (budget)` : ""}`, fmtT(w.train_s), w.avg_max_reward.toFixed(3),
    `${w.pc_success.toFixed(0)} %`, String(w.n_episodes), w.inference_ms_p50.toFixed(2),
  ]);
  const table = [head, head.map(() => "---"), ...lines].map((l) => `| ${l.join(" | ")} |`).join("\n");
  const notes = r.unfinished.map((u) => `run ${u.index} skipped: ${u.reason}`);
  return [table, ...(notes.length ? ["", ...notes] : [])].join("\n");
}

/** Horizontal bars: mean score per finished run (success rate printed beside it). */
export function plotSweep(file: string, r: SweepReport, title: string): void {
  const rowH = 22, L = 300, R = 110, T = 40, B = 20, W = 900;
  const H = T + B + rowH * Math.max(1, r.rows.length);
  const c = createCanvas(W, H), ctx = c.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = "#222";
  ctx.font = "14px sans-serif";
  ctx.fillText(`${title} — mean score (avg max reward) per run`, 10, 24);
  ctx.font = "12px sans-serif";
  const w = W - L - R;
  r.rows.forEach((row, i) => {
    const y = T + i * rowH;
    ctx.fillStyle = "#222";
    ctx.fillText(`${row.index}: ${describeOverrides(row.overrides)}`.slice(0, 48), 10, y + 15);
    ctx.fillStyle = row.pc_success > 0 ? "rgb(60,170,90)" : "rgb(70,110,200)";
    ctx.fillRect(L, y + 3, Math.max(1, w * Math.max(0, Math.min(1, row.avg_max_reward))), rowH - 6);
    ctx.fillStyle = "#222";
    ctx.fillText(`${row.avg_max_reward.toFixed(3)} (${row.pc_success.toFixed(0)} %)`, L + w + 6, y + 15);
  });
  ctx.strokeStyle = "#999";
  ctx.beginPath();
  ctx.moveTo(L, T);
  ctx.lineTo(L, H - B);
  ctx.stroke();
  writeFileAtomic(file, c.toBuffer("image/png"));
}
