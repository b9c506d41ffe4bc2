/** Drawing and readouts: the env's own RGB render (the simulator's renderer, via OffscreenCanvas) scaled to the page canvas, then the predicted chunks as fading paths. */
import type { RgbFrame } from "../../src/envs/types.ts";
import type { Task } from "./tasks.ts";
import type { LiveEnv } from "../../src/web/live-env.ts";
import type { LoopStats } from "../../src/web/stats.ts";

let scratch: OffscreenCanvas | null = null;

export function drawFrame(ctx: CanvasRenderingContext2D, f: RgbFrame): void {
  if (!scratch || scratch.width !== f.width || scratch.height !== f.height) scratch = new OffscreenCanvas(f.width, f.height);
  const img = new ImageData(f.width, f.height);
  for (let i = 0, j = 0; j < f.data.length; i += 4, j += 3) {
    img.data[i] = f.data[j];
    img.data[i + 1] = f.data[j + 1];
    img.data[i + 2] = f.data[j + 2];
    img.data[i + 3] = 255;
  }
  scratch.getContext("2d")!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch, 0, 0, ctx.canvas.width, ctx.canvas.height);
}

/** Paths in env coordinates, newest last: older ones fade out. */
export function drawPaths(ctx: CanvasRenderingContext2D, task: Task, paths: [number, number][][]): void {
  const size = ctx.canvas.width;
  paths.forEach((pts, i) => {
    if (pts.length < 2) return;
    const alpha = 0.85 * Math.pow(0.45, paths.length - 1 - i);
    ctx.strokeStyle = `rgba(255,140,0,${alpha})`;
    ctx.fillStyle = `rgba(255,140,0,${alpha})`;
    ctx.lineWidth = 2;
    ctx.beginPath();
    pts.forEach((p, j) => {
      const [x, y] = task.toPx(p, size);
      if (j) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
    });
    ctx.stroke();
    for (const p of pts) {
      const [x, y] = task.toPx(p, size);
      ctx.beginPath();
      ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  });
}

/**
 * The readouts: the episode's step, coverage, reward; while a policy drives, the loop's inference p50/p99, chunks,
 * misses and chunk-switch jerk (during a take-over or a replay they would describe no policy: shown as "–"); steps in the last second.
 */
export function showReadouts(s: LiveEnv["stats"], loop: LoopStats, stepsLastSecond: number, policy: boolean, maxSteps: number): void {
  const set = (id: string, v: string) => {
    const el = document.getElementById(id)!;
    if (el.textContent !== v) el.textContent = v;
  };
  const q = loop.inference;
  set("stepno", String(s.step));
  set("max-steps", String(maxSteps));
  set("coverage", s.coverage === null ? "–" : `${(s.coverage * 100).toFixed(1)} %`);
  set("reward", s.reward.toFixed(3));
  set("max-reward", s.maxReward.toFixed(3));
  set("infer", policy && loop.inferMs.length ? `${q.p50.toFixed(1)} / ${q.p99.toFixed(1)} ms` : "–");
  set("chunks", policy ? String(loop.chunks) : "–");
  set("misses", policy ? String(loop.misses) : "–");
  const jerk = loop.jerk.ratio;
  set("jerk", policy && jerk !== null ? `${jerk.toFixed(2)}×` : "–");
  set("rate", String(stepsLastSecond));
  for (const tr of Array.from(document.querySelectorAll(".readouts tr.pol"))) tr.classList.toggle("off", !policy);
}
