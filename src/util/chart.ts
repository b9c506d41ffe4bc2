/**
 * A small line/scatter chart as a PNG (score-vs-time curves, recipe-search tables): linear axes, one colour per
 * series, a legend. Lines for series with `line: true`, dots for every point.
 */
import { createCanvas } from "@napi-rs/canvas";
import { writeFileAtomic } from "./fsx.ts";

export interface Series {
  label: string;
  points: [number, number][];
  line?: boolean;
  color?: string;
}

const PALETTE = ["#2a5ac8", "#dc5a28", "#2a9a4a", "#9a3ac8", "#c8a02a", "#2ab0c0", "#c82a7a", "#666666"];

/** Write `series` to `path` as a PNG chart. x and y ranges cover every point (and yMin/yMax when given). */
export function plotSeries(path: string, series: Series[], o: { title: string; xLabel: string; yLabel: string; yMin?: number; yMax?: number; width?: number; height?: number }): void {
  const W = o.width ?? 900, H = o.height ?? 500, L = 60, R = 20, T = 40, B = 50;
  const c = createCanvas(W, H), ctx = c.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const x0 = 0, x1 = Math.max(1e-9, ...pts.map(([x]) => x)) * 1.05;
  const y0 = Math.min(o.yMin ?? Infinity, ...pts.map(([, y]) => y)), y1 = Math.max(o.yMax ?? -Infinity, ...pts.map(([, y]) => y));
  const px = (x: number) => L + ((W - L - R) * (x - x0)) / (x1 - x0);
  const py = (y: number) => H - B - ((H - T - B) * (y - y0)) / Math.max(1e-9, y1 - y0);
  ctx.strokeStyle = "#999";
  ctx.strokeRect(L, T, W - L - R, H - T - B);
  ctx.fillStyle = "#333";
  ctx.font = "12px sans-serif";
  for (let i = 0; i <= 5; i++) {
    const y = y0 + ((y1 - y0) * i) / 5, x = x0 + ((x1 - x0) * i) / 5;
    ctx.fillText(y.toFixed(2), 8, py(y) + 4);
    ctx.fillText(x.toFixed(x1 < 10 ? 1 : 0), px(x) - 10, H - B + 16);
    ctx.strokeStyle = "#eee";
    ctx.beginPath();
    ctx.moveTo(L, py(y));
    ctx.lineTo(W - R, py(y));
    ctx.stroke();
  }
  ctx.fillText(o.xLabel, W / 2 - 40, H - 12);
  ctx.save();
  ctx.translate(14, H / 2 + 30);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(o.yLabel, 0, 0);
  ctx.restore();
  series.forEach((s, k) => {
    const col = s.color ?? PALETTE[k % PALETTE.length];
    ctx.strokeStyle = ctx.fillStyle = col;
    ctx.lineWidth = 2;
    const ps = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    if (s.line && ps.length > 1) {
      ctx.beginPath();
      ps.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
      ctx.stroke();
    }
    for (const [x, y] of ps) {
      ctx.beginPath();
      ctx.arc(px(x), py(y), 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.fillRect(L + 10, T + 10 + 16 * k, 10, 10);
    ctx.fillStyle = "#222";
    ctx.fillText(s.label, L + 26, T + 19 + 16 * k);
  });
  ctx.font = "14px sans-serif";
  ctx.fillStyle = "#222";
  ctx.fillText(o.title, L, 24);
  writeFileAtomic(path, c.toBuffer("image/png"));
}
