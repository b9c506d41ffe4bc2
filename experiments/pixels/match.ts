/**
 * Do our Push-T pixels match the data? Renders the 96 × 96 observation at every recorded state of Diffusion
 * Policy's Push-T store (206 episodes, 25,650 frames) and compares it with the stored `data/img`: per-frame mean
 * absolute error (in /255 units), its distribution, the worst frames as side-by-side PNGs (stored | ours | |diff|)
 * and results/match.md. Besides the renderer (src/envs/pusht/pixels.ts) it measures two alternatives, to show
 * what the exact replica buys: the same rasterisation shrunk by area averaging, and the GIF renderer (render.ts,
 * anti-aliased @napi-rs/canvas) drawn directly at 96 px.
 *
 *   nice -n 15 npx tsx experiments/pixels/match.ts [--zarr ../shared/datasets/pusht_cchi_v7_replay.zarr] [--worst 6]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { readDpZarr } from "../../src/datasets/dp-zarr/zarr.ts";
import { renderPushTObservation, rasterPushT, WINDOW_SIZE } from "../../src/envs/pusht/pixels.ts";
import { renderPushT } from "../../src/envs/pusht/render.ts";
import { T_PARTS, GOAL_POSE, transform } from "../../src/envs/pusht/geometry.ts";
import { AGENT_RADIUS } from "../../src/envs/pusht/physics.ts";
import { encodePng } from "../../src/util/image.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const { values: flags } = parseArgs({
  options: { zarr: { type: "string", default: path.resolve(ROOT, "../shared/datasets/pusht_cchi_v7_replay.zarr") }, worst: { type: "string", default: "6" }, out: { type: "string", default: path.join(HERE, "results") } },
});
const S = 96, PIX = S * S * 3;

/** Alternative A: the same 512-px rasterisation, shrunk by exact area averaging (512/96 = 16/3 px per output px). */
function renderArea(state: ArrayLike<number>): Uint8Array {
  const { px, palette } = rasterPushT(state), out = new Uint8Array(PIX), k = WINDOW_SIZE / S;
  const acc = new Float64Array(3);
  for (let dy = 0; dy < S; dy++)
    for (let dx = 0; dx < S; dx++) {
      acc.fill(0);
      const x0 = dx * k, x1 = x0 + k, y0 = dy * k, y1 = y0 + k;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0)), c = palette[px[y * WINDOW_SIZE + x]];
          for (let j = 0; j < 3; j++) acc[j] += w * c[j];
        }
      }
      for (let j = 0; j < 3; j++) out[(dy * S + dx) * 3 + j] = Math.round(acc[j] / (k * k));
    }
  return out;
}

/** Alternative B: the GIF/page renderer (anti-aliased canvas) drawn straight at 96 px, without the target cross. */
function renderCanvas(s: ArrayLike<number>): Uint8Array {
  const f = renderPushT({ goal: T_PARTS.map((p) => transform(p, ...GOAL_POSE)), block: T_PARTS.map((p) => transform(p, s[2], s[3], s[4])), agent: [s[0], s[1]], agentRadius: AGENT_RADIUS, target: null }, S);
  return new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.length);
}

const mae = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < PIX; i++) s += Math.abs(a[i] - b[i]);
  return s / PIX;
};
const pct = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const f3 = (v: number) => (v === 0 ? "0" : v < 0.001 ? v.toExponential(1) : v.toFixed(3));

const t0 = Date.now();
const buf = await readDpZarr(flags.zarr!, { images: true });
const states = buf.data["observation.state"] as Float32Array, ends = buf.episodeEnds;
const n = ends.at(-1)!;
// the reader keeps Zarr images in the store and serves them chunk by chunk (an older one returned them in data)
const inData = buf.data["observation.image"] as Uint8Array | undefined, source = buf.frames?.["observation.image"];
if (!inData && !source) throw new Error(`${flags.zarr}: no data/img`);
/** Make frames [a, b) readable with `stored(i)`; `done()` lets them go. */
const loadFrames = async (a: number, b: number) => {
  const steps = Array.from({ length: b - a }, (_, k) => a + k);
  await source?.load(steps);
  return () => source?.release(steps);
};
const stored = (i: number): Uint8Array => (inData ? inData.subarray(i * PIX, (i + 1) * PIX) : source!.frame(i));
console.log(`read ${n} frames of ${ends.length} episodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const perFrame = new Float64Array(n), alt = { area: new Float64Array(n), canvas: new Float64Array(n) };
const pixHist = new Float64Array(256); // |stored − ours| per channel value
let exactFrames = 0, redPixels = 0;
const contactPixels = new Int32Array(n);
const t1 = Date.now();
for (let i = 0, done = () => {}; i < n; i++) {
  if (i % 1610 === 0) (done(), (done = await loadFrames(i, Math.min(n, i + 1610)))); // 10 Zarr chunks at a time
  const st = states.subarray(i * 5, i * 5 + 5), ref = stored(i);
  const ours = renderPushTObservation(st);
  let s = 0;
  for (let j = 0; j < PIX; j++) {
    const d = Math.abs(ours[j] - ref[j]);
    s += d;
    pixHist[d]++;
  }
  perFrame[i] = s / PIX;
  if (s === 0) exactFrames++;
  for (let j = 0; j < PIX; j += 3) {
    if (ref[j] > 200 && ref[j + 1] < 80 && ref[j + 2] < 80) redPixels++; // an action marker would be (255, 0, 0)
    if (ref[j] > ref[j + 1] + 40) contactPixels[i]++; // pymunk's contact markers (231, 76, 60), blended
  }
  if (i % 8 === 0) (alt.area[i / 8] = mae(renderArea(st), ref)), (alt.canvas[i / 8] = mae(renderCanvas(st), ref)); // every 8th frame
  if (i % 5000 === 0) console.log(`frame ${i}/${n}: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
}
const renderSec = (Date.now() - t1) / 1000;

// per-episode means
const epMeans: number[] = [];
for (let e = 0, a = 0; e < ends.length; a = ends[e++]) {
  let s = 0;
  for (let i = a; i < ends[e]; i++) s += perFrame[i];
  epMeans.push(s / (ends[e] - a));
}
const summary = (v: Float64Array) => {
  const sorted = Float64Array.from(v).sort();
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, p50: pct(sorted, 50), p90: pct(sorted, 90), p99: pct(sorted, 99), max: sorted[sorted.length - 1] };
};
const main = summary(perFrame), nAlt = Math.ceil(n / 8);
const area = summary(alt.area.subarray(0, nAlt)), canvas = summary(alt.canvas.subarray(0, nAlt));

// histogram of per-frame MAE (in /255)
const edges = [0, 0.01, 0.1, 0.5, 1, 2, 5, Infinity];
const frameHist = [{ lo: 0, hi: 0, count: 0 }, ...edges.slice(0, -1).map((lo, k) => ({ lo, hi: edges[k + 1], count: 0 }))];
for (const v of perFrame) frameHist.find((b, k) => (k === 0 ? v === 0 : v > b.lo && v <= b.hi))!.count++;

// worst frames: stored | ours | |diff| (diff amplified ×4), 4× nearest-neighbour upscale
fs.mkdirSync(flags.out!, { recursive: true });
for (const f of fs.readdirSync(flags.out!)) if (/^worst-\d+-frame\d+\.png$/.test(f)) fs.rmSync(path.join(flags.out!, f));
// by error, then (among exact frames) the hardest cases: most contact-marker pixels
const order = Array.from(perFrame.keys()).sort((a, b) => perFrame[b] - perFrame[a] || contactPixels[b] - contactPixels[a]);
const worst = order.slice(0, Number(flags.worst));
const Z = 4, GAP = 4, W = 3 * S * Z + 2 * GAP;
const episodeOf = (i: number) => ends.findIndex((e) => i < e);
/** How close the frame's rounded coordinates (block vertices, agent centre) come to a half pixel, where float32 can flip them. */
const halfPixelMargin = (s: ArrayLike<number>) =>
  Math.min(...[...T_PARTS.flatMap((p) => transform(p, s[2], s[3], s[4])), [s[0], s[1]]].flat().map((v) => Math.abs(Math.abs(v - Math.trunc(v)) - 0.5)));
const worstRows: string[] = [];
for (const [rank, i] of worst.entries()) {
  const done = await loadFrames(i, i + 1), ref = stored(i).slice(), ours = renderPushTObservation(states.subarray(i * 5, i * 5 + 5));
  const data = new Uint8ClampedArray(W * S * Z * 3).fill(255);
  const panels = [ref, ours, Uint8Array.from(ref, (v, j) => 255 - Math.min(255, 4 * Math.abs(v - ours[j])))];
  panels.forEach((img, p) => {
    for (let y = 0; y < S * Z; y++)
      for (let x = 0; x < S * Z; x++)
        for (let c = 0; c < 3; c++) data[(y * W + p * (S * Z + GAP) + x) * 3 + c] = img[((((y / Z) | 0) * S + ((x / Z) | 0)) * 3) + c];
  });
  const name = `worst-${rank + 1}-frame${i}.png`;
  fs.writeFileSync(path.join(flags.out!, name), encodePng({ width: W, height: S * Z, data }));
  const e = episodeOf(i);
  const st = states.subarray(i * 5, i * 5 + 5);
  worstRows.push(`| ${rank + 1} | ${i} | ${e} | ${i - (e ? ends[e - 1] : 0)} | ${f3(perFrame[i])} | ${contactPixels[i]} | [${Array.from(st, (v) => +v.toFixed(2)).join(", ")}] | ${halfPixelMargin(st).toExponential(1)} | ${name} |`);
  done();
}

const nz = pixHist.reduce((a, b) => a + b, 0) - pixHist[0];
const md = `# Push-T pixels vs Diffusion Policy's recordings

Command (from the project root; reads \`../shared/datasets/pusht_cchi_v7_replay.zarr\` with the repo's Zarr reader, \`readDpZarr(…, { images: true })\`):

\`\`\`sh
nice -n 15 npx tsx experiments/pixels/match.ts
\`\`\`

Every recorded frame (${ends.length} episodes, ${n} frames): \`renderPushTObservation(data/state[i])\` (src/envs/pusht/pixels.ts)
vs \`data/img[i]\`. Error = mean absolute difference over the 96 × 96 × 3 values of a frame, in 1/255 units.
Rendering took ${renderSec.toFixed(0)} s for all frames (with the alternatives on every 8th frame; niced, on a machine busy with training).

## Per-frame MAE (/255)

| renderer | frames | mean | p50 | p90 | p99 | max | bit-exact frames |
|---|---|---|---|---|---|---|---|
| **pixels.ts**: pygame 2.1 integer rasterisation on 512 px + cv2 INTER_LINEAR fixed-point shrink | ${n} | **${f3(main.mean)}** | ${f3(main.p50)} | ${f3(main.p90)} | ${f3(main.p99)} | ${f3(main.max)} | ${exactFrames} (${((100 * exactFrames) / n).toFixed(2)} %) |
| same rasterisation, area-averaged shrink | ${nAlt} (every 8th) | ${f3(area.mean)} | ${f3(area.p50)} | ${f3(area.p90)} | ${f3(area.p99)} | ${f3(area.max)} | |
| render.ts (anti-aliased @napi-rs/canvas) drawn at 96 px | ${nAlt} (every 8th) | ${f3(canvas.mean)} | ${f3(canvas.p50)} | ${f3(canvas.p90)} | ${f3(canvas.p99)} | ${f3(canvas.max)} | |

Goal: mean ≤ 5/255. Mean of pixels.ts to more digits: ${main.mean.toExponential(2)}/255. Per-episode mean MAE of pixels.ts: min ${f3(Math.min(...epMeans))}, max ${f3(Math.max(...epMeans))}.

## Histogram of per-frame MAE (pixels.ts)

| MAE (/255) | frames |
|---|---|
${frameHist.map((b, k) => `| ${k === 0 ? "0 (bit-exact)" : `(${b.lo}, ${b.hi === Infinity ? "∞" : b.hi}]`} | ${b.count} |`).join("\n")}

Per value: ${nz} of ${n * PIX} channel values differ (${f3((100 * nz) / (n * PIX))} %); |difference| histogram: ${Array.from(pixHist.entries()).filter(([d, c]) => d > 0 && c > 0).map(([d, c]) => `${d}: ${c}`).join(", ") || "none"}.

Action marker: ${redPixels} stored pixels are red (R > 200, G < 80, B < 80) in all ${n} frames, so the recordings carry no
action cross (the image env renders with render_action=False) and pixels.ts draws none.

## Worst frames (stored | ours | 255 − 4·|diff|)

Sorted by MAE, then, among exact frames, by the number of stored pixels showing pymunk's red contact markers.
Frames with contact markers: ${contactPixels.filter((c) => c > 0).length} of ${n}.

| rank | frame | episode | step | MAE | contact-marker pixels | state | nearest half pixel (px) | file |
|---|---|---|---|---|---|---|---|---|
${worstRows.join("\n")}

## What remains

${exactFrames === n ? "Nothing: every frame is reproduced exactly." : `${n - exactFrames} of ${n} frames differ${n - exactFrames <= Number(flags.worst) ? " (all in the table above)" : ""}. The "nearest half pixel" column is how far the
frame's closest block-vertex or agent-centre coordinate lies from x.5, where \`to_pygame\`'s round() picks one pixel or the
next: \`data/state\` holds float32 values (3e-5 px apart between 256 and 512), so a coordinate that close to x.5 in the
original float64 simulation can round the other way in ours. One 512-px pixel of an edge moves; a few 96-px values change.`}

How the renderer got here (the same command, earlier states of pixels.ts): the scene rasterised as pygame 2.1 does and
shrunk as cv2's INTER_LINEAR does gave a mean of 0.001/255 with 78.5 % of frames bit-exact; all remaining frames but
a few showed pymunk's debug contact markers (red \`aalines\` drawn by \`space.debug_draw\` for every block–agent and
block–wall contact) and, where the block was pushed past the canvas edge, pygame's line clipping. Both are reproduced now.

The alternatives show why an exact replica rather than a "nice" renderer: cv2's INTER_LINEAR reads only 2 × 2 source
pixels per output pixel (no area averaging), so the 4-px outlines and walls alias in a pattern set by their exact
512-px positions; an area-averaged shrink or an anti-aliased canvas blurs them differently (≈ 1–2/255 mean).
`;
fs.writeFileSync(path.join(flags.out!, "match.md"), md);
console.log(md);
