/** A PNG bar chart of per-episode scores (max reward), green for successes, with the mean as a line. */
import { createCanvas } from "@napi-rs/canvas";
import { writeFileAtomic } from "../util/fsx.ts";

export function plotScores(path: string, scores: number[], success: boolean[], title: string): void {
  const W = 900, H = 360, L = 50, R = 20, T = 40, B = 40;
  const c = createCanvas(W, H), ctx = c.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = "#999";
  ctx.beginPath();
  ctx.moveTo(L, T);
  ctx.lineTo(L, H - B);
  ctx.lineTo(W - R, H - B);
  ctx.stroke();
  const bw = (W - L - R) / Math.max(1, scores.length);
  scores.forEach((s, i) => {
    ctx.fillStyle = success[i] ? "rgb(60,170,90)" : "rgb(200,110,90)";
    const h = (H - T - B) * Math.max(0, Math.min(1, s));
    ctx.fillRect(L + i * bw + bw * 0.1, H - B - h, Math.max(1, bw * 0.8), h);
  });
  const mean = scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
  ctx.strokeStyle = "rgb(40,80,200)";
  ctx.setLineDash([6, 4]);
  ctx.beginPath();
  ctx.moveTo(L, H - B - (H - T - B) * mean);
  ctx.lineTo(W - R, H - B - (H - T - B) * mean);
  ctx.stroke();
  ctx.fillStyle = "#222";
  ctx.font = "14px sans-serif";
  ctx.fillText(`${title} — mean max reward ${mean.toFixed(3)}, success ${success.filter(Boolean).length}/${scores.length}`, L, 24);
  ctx.font = "11px sans-serif";
  for (const v of [0, 0.5, 1]) ctx.fillText(v.toFixed(1), 18, H - B - (H - T - B) * v + 4);
  ctx.fillText("episode", W / 2, H - 12);
  writeFileAtomic(path, c.toBuffer("image/png"));
}
