/** Loss curves as a PNG: training loss (smoothed, log scale) and validation loss against step. */
import { createCanvas } from "@napi-rs/canvas";
import { writeFileAtomic } from "../util/fsx.ts";

export function plotLoss(path: string, train: [number, number][], val: [number, number][], title: string): void {
  const W = 800, H = 400, L = 60, R = 20, T = 40, B = 40;
  const c = createCanvas(W, H), ctx = c.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  const all = [...train, ...val].filter(([, y]) => y > 0 && Number.isFinite(y));
  if (!all.length) return writeFileAtomic(path, c.toBuffer("image/png"));
  const maxX = Math.max(...all.map(([x]) => x), 1);
  const ly = all.map(([, y]) => Math.log10(y));
  const lo = Math.floor(Math.min(...ly) * 2) / 2, hi = Math.ceil(Math.max(...ly) * 2) / 2 || lo + 1;
  const px = (x: number) => L + ((W - L - R) * x) / maxX;
  const py = (y: number) => H - B - ((H - T - B) * (Math.log10(y) - lo)) / Math.max(hi - lo, 1e-9);
  ctx.strokeStyle = "#999";
  ctx.strokeRect(L, T, W - L - R, H - T - B);
  ctx.fillStyle = "#333";
  ctx.font = "12px sans-serif";
  for (let e = lo; e <= hi + 1e-9; e += 0.5) ctx.fillText(`1e${e.toFixed(1)}`, 8, py(10 ** e) + 4);
  ctx.fillText(`step (max ${maxX})`, W / 2 - 30, H - 12);
  const line = (pts: [number, number][], color: string, width: number) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
    ctx.stroke();
  };
  // exponential moving average of the training loss
  let s = train[0]?.[1] ?? 0;
  line(train.map(([x, y]) => [x, (s = 0.9 * s + 0.1 * y)] as [number, number]), "rgb(40,90,200)", 1.5);
  line(val, "rgb(220,90,40)", 2);
  ctx.font = "14px sans-serif";
  ctx.fillStyle = "#222";
  ctx.fillText(`${title} — blue: train (EMA), orange: validation`, L, 24);
  writeFileAtomic(path, c.toBuffer("image/png"));
}
