/**
 * The report's charts as inline SVG: they scale with the column (no fixed-width PNG to overflow it), their text
 * stays sharp, and every axis, tick and legend entry is text a reader (and the layout test) can find.
 */
import { escape } from "html-escaper";

export interface Line {
  label: string;
  points: [number, number][];
  color: string;
  /** points only (a single measurement), no connecting line */
  dots?: boolean;
  /** a dashed line */
  dashed?: boolean;
}

const W = 560, H = 300, L = 56, R = 26, T = 14, B = 46;
const f = (v: number) => (Math.round(v * 10) / 10).toString();

/** Tick values for a linear axis from `lo` to `hi`: about `n` round steps (1, 2 or 5 × 10^k). */
export function linearTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1, raw = span / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** Tick values for a log axis over [lo, hi]: 1, 2 and 5 × 10^k inside the range (plain numbers, never "1e-1.5"). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  return out;
}

/** A number as a tick label: no exponent notation, no float noise. */
export function tickLabel(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1000 ? Math.round(v).toLocaleString("en") : a >= 1 ? String(Number(v.toPrecision(4))) : String(Number(v.toPrecision(2)));
}

function frame(xLabel: string, yLabel: string, xt: [number, string][], yt: [number, string][], body: string, legend: Line[], title: string): string {
  const grid = yt.map(([y, s]) => `<line x1="${L}" x2="${W - R}" y1="${f(y)}" y2="${f(y)}" class="grid"/><text x="${L - 6}" y="${f(y + 4)}" text-anchor="end">${escape(s)}</text>`).join("");
  const xs = xt.map(([x, s]) => `<line x1="${f(x)}" x2="${f(x)}" y1="${H - B}" y2="${H - B + 4}" class="axis"/><text x="${f(x)}" y="${H - B + 17}" text-anchor="middle">${escape(s)}</text>`).join("");
  const leg = legend.length
    ? `<div class="legend">${legend.map((l) => `<span><i style="background:${l.color}"${l.dots ? ' class="dot"' : ""}></i>${escape(l.label)}</span>`).join("")}</div>`
    : "";
  return `<figure class="chart"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escape(title)}">
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" class="plotarea"/>${grid}${xs}${body}
${xLabel ? `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle" class="label">${escape(xLabel)}</text>` : ""}
<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle" class="label">${escape(yLabel)}</text>
</svg>${leg}</figure>`;
}

/** A line chart: linear x, linear or log y; `yRange` fixes the y range (linear). */
export function lineChart(lines: Line[], o: { title: string; xLabel: string; yLabel: string; logY?: boolean; yRange?: [number, number]; xMin?: number }): string {
  const pts = lines.flatMap((l) => l.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0));
  if (!pts.length) return `<p class="note">${escape(o.title)}: nothing recorded</p>`;
  const x0 = o.xMin ?? 0, x1 = Math.max(x0 + 1e-9, ...pts.map(([x]) => x));
  const xt = linearTicks(x0, x1);
  if (xt.length > 1 && xt.at(-1)! < x1) xt.push(Number((2 * xt.at(-1)! - xt.at(-2)!).toPrecision(12))); // end the axis on a tick
  const xHi = Math.max(x1, xt.at(-1)!);
  let y0: number, y1: number, ty: (y: number) => number, yTicks: number[];
  if (o.logY) {
    const ys = pts.map(([, y]) => y);
    y0 = Math.min(...ys);
    y1 = Math.max(...ys);
    yTicks = logTicks(y0, y1);
    if (yTicks.length < 2) yTicks = logTicks(y0 / 2, y1 * 2);
    y0 = Math.min(y0, yTicks[0]);
    y1 = Math.max(y1, yTicks.at(-1)!);
    ty = (y) => Math.log10(y);
  } else {
    [y0, y1] = o.yRange ?? [Math.min(...pts.map(([, y]) => y)), Math.max(...pts.map(([, y]) => y))];
    yTicks = linearTicks(y0, y1);
    ty = (y) => y;
  }
  const px = (x: number) => L + ((W - L - R) * (x - x0)) / (xHi - x0);
  const py = (y: number) => H - B - ((H - T - B) * (ty(y) - ty(y0))) / Math.max(1e-12, ty(y1) - ty(y0));
  const body = lines
    .map((l) => {
      const p = l.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0));
      const dots = l.dots || p.length < 40 ? p.map(([x, y]) => `<circle cx="${f(px(x))}" cy="${f(py(y))}" r="${l.dots ? 4.5 : 2.5}" fill="${l.color}"><title>${escape(`${l.label}: ${tickLabel(x)}, ${tickLabel(y)}`)}</title></circle>`).join("") : "";
      const path = l.dots || p.length < 2 ? "" : `<polyline fill="none" stroke="${l.color}" stroke-width="1.8"${l.dashed ? ' stroke-dasharray="5 4"' : ""} points="${p.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(" ")}"/>`;
      return p.length ? `<g data-series="${escape(l.label)}">${path}${dots}</g>` : "";
    })
    .join("");
  return frame(o.xLabel, o.yLabel, xt.map((x) => [px(x), tickLabel(x)]), yTicks.map((y) => [py(y), tickLabel(y)]), body, lines, o.title);
}

/** One bar per episode (its score), labelled by seed: every bar has a tooltip, every 5th seed a tick label. */
export function episodeBars(eps: { seed: number; score: number; success: boolean }[], title: string): string {
  if (!eps.length) return `<p class="note">${escape(title)}: no episodes</p>`;
  const slot = (W - L - R) / eps.length, bw = Math.max(1, slot * 0.78);
  const py = (y: number) => H - B - (H - T - B) * Math.max(0, Math.min(1, y));
  const bars = eps
    .map((e, i) => {
      const x = L + i * slot + (slot - bw) / 2, y = py(e.score);
      return `<rect x="${f(x)}" y="${f(y)}" width="${f(bw)}" height="${f(H - B - y)}" class="${e.success ? "ok" : "fail"}" data-seed="${e.seed}"><title>seed ${e.seed}: score ${e.score.toFixed(3)}${e.success ? " (success)" : ""}</title></rect>`;
    })
    .join("");
  const every = eps.length <= 12 ? 1 : 5;
  const xt: [number, string][] = eps.flatMap((e, i) => (i % every === 0 || i === eps.length - 1 ? [[L + (i + 0.5) * slot, String(e.seed)] as [number, string]] : []));
  const legend: Line[] = [{ label: "success (coverage > 95 %)", points: [], color: "var(--ok)" }, { label: "failure", points: [], color: "var(--fail)" }];
  const body = bars + `<line x1="${L}" x2="${W - R}" y1="${f(py(1))}" y2="${f(py(1))}" class="axis"/>`;
  // seeds as labels: rotated so six-digit seeds never overlap, whatever the width
  const ticks = xt.map(([x, s]) => `<text x="${f(x)}" y="${H - B + 12}" text-anchor="end" transform="rotate(-40 ${f(x)} ${H - B + 12})" class="seed">${s}</text>`).join("");
  return frame("", "score (max reward)", [], linearTicks(0, 1).map((y) => [py(y), tickLabel(y)]), body + ticks, legend, title);
}

/** The charts' styles (colours come from the page's custom properties). */
export const CHART_CSS = `
.chart{margin:.4em 0 1em;max-width:880px}.chart svg{width:100%;height:auto;display:block;font:11px system-ui,sans-serif;fill:var(--ink-2)}
.chart .plotarea{fill:none;stroke:var(--rule)}.chart .grid{stroke:var(--rule);stroke-opacity:.6}.chart .axis{stroke:var(--ink-3)}
.chart .label{font-size:12px;fill:var(--ink)}.chart .ok{fill:var(--ok)}.chart .fail{fill:var(--fail)}.chart .seed{font-size:9px}
.legend{display:flex;flex-wrap:wrap;gap:.3em 1.2em;font-size:.85em;color:var(--ink-2);margin-top:.2em}
.legend i{display:inline-block;width:14px;height:3px;vertical-align:middle;margin-right:.4em}.legend i.dot{width:9px;height:9px;border-radius:50%}
`;
