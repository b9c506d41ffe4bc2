/**
 * Pure window sampling. A policy declares, per feature, the frame offsets it needs relative to an anchor step
 * (e.g. observation [-1, 0], action [-1 .. 14]); a window copies those frames, replicating the episode's first
 * or last frame where an offset falls outside the episode, and returns a pad mask (1 = padded). Image features held
 * by a frame source (frames.ts) are read frame by frame: a window fetches only the frames it holds.
 */
import { ScdError } from "../errors.ts";
import { type EpisodeBuffer, featureDim, episodeStart } from "./episodes.ts";
import type { FrameSource } from "./frames.ts";

/** Per feature, the frame offsets a window holds relative to its anchor step (e.g. action: −1 … 14). */
export type WindowSpec = Record<string, readonly number[]>;

/** N windows sampled by {@link sampleWindows}: values and pad masks per feature. */
export interface WindowBatch {
  /** feature -> [N, offsets.length, dim] flat */
  values: Record<string, Float32Array>;
  /** feature -> [N, offsets.length], 1 where the frame was padded by edge replication */
  pad: Record<string, Uint8Array>;
  n: number;
}

/** For each global step, the index of its episode. */
export function episodeIndexOfSteps(episodeEnds: ArrayLike<number>): Int32Array {
  const n = episodeEnds.length ? episodeEnds[episodeEnds.length - 1] : 0;
  const out = new Int32Array(n);
  for (let k = 0, s = 0; k < episodeEnds.length; k++) {
    out.fill(k, s, episodeEnds[k]);
    s = episodeEnds[k];
  }
  return out;
}

/**
 * Every step of the listed episodes is an anchor (windows near the edges are padded, as in Diffusion Policy), except
 * the last `dropLast` steps of each episode (at least one anchor per episode is kept).
 */
export function anchorsForEpisodes(episodeEnds: ArrayLike<number>, episodes: readonly number[], dropLast = 0): Int32Array {
  const out: number[] = [];
  for (const k of episodes) {
    const s = episodeStart(episodeEnds, k);
    for (let t = s; t < Math.max(s + 1, episodeEnds[k] - dropLast); t++) out.push(t);
  }
  return Int32Array.from(out);
}

/**
 * Copy the frames anchor+offsets of one feature into `out` at `outOffset`, clamping to [start, end-1] of the
 * anchor's episode; writes pad flags into `pad` at `padOffset`.
 */
export function gatherWindow(
  flat: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, dim: number, start: number, end: number, anchor: number,
  offsets: readonly number[], out: Float32Array, outOffset: number, pad: Uint8Array, padOffset: number,
): void {
  for (let j = 0; j < offsets.length; j++) {
    const want = anchor + offsets[j];
    const src = want < start ? start : want >= end ? end - 1 : want;
    pad[padOffset + j] = src === want ? 0 : 1;
    out.set(flat.subarray(src * dim, src * dim + dim), outOffset + j * dim); // uint8 images widen to float
  }
}

/** {@link gatherWindow} for a feature held by a frame source: uint8 frames widen to float. */
function gatherFrames(src: FrameSource, dim: number, start: number, end: number, anchor: number, offsets: readonly number[], out: Float32Array, outOffset: number, pad: Uint8Array, padOffset: number): void {
  for (let j = 0; j < offsets.length; j++) {
    const want = anchor + offsets[j];
    const s = want < start ? start : want >= end ? end - 1 : want;
    pad[padOffset + j] = s === want ? 0 : 1;
    out.set(src.frame(s), outOffset + j * dim);
  }
}

/**
 * Windows for a list of anchors. Pure: reads the buffer, returns fresh arrays. A video or Zarr frame source must have
 * the frames loaded: use {@link sampleWindowsAsync}.
 */
export function sampleWindows(buf: EpisodeBuffer, spec: WindowSpec, anchors: ArrayLike<number>, episodeOf = episodeIndexOfSteps(buf.episodeEnds)): WindowBatch {
  const n = anchors.length;
  const values: Record<string, Float32Array> = {};
  const pad: Record<string, Uint8Array> = {};
  for (const [name, offsets] of Object.entries(spec)) {
    const fs = buf.schema[name];
    if (!fs) throw new ScdError(`window spec asks for feature "${name}", the dataset has: ${Object.keys(buf.schema).join(", ")}`);
    const dim = featureDim(fs);
    const v = new Float32Array(n * offsets.length * dim);
    const p = new Uint8Array(n * offsets.length);
    for (let i = 0; i < n; i++) {
      const a = anchors[i];
      const k = episodeOf[a];
      if (k === undefined) throw new ScdError(`anchor ${a} is outside the dataset (${episodeOf.length} steps)`);
      const src = buf.frames?.[name], s = episodeStart(buf.episodeEnds, k), e = buf.episodeEnds[k];
      if (src) gatherFrames(src, dim, s, e, a, offsets, v, i * offsets.length * dim, p, i * offsets.length);
      else gatherWindow(buf.data[name], dim, s, e, a, offsets, v, i * offsets.length * dim, p, i * offsets.length);
    }
    values[name] = v;
    pad[name] = p;
  }
  return { values, pad, n };
}

/** The steps the windows of `anchors` read from each lazy image feature of `spec` (edge-clamped, deduplicated). */
export function windowFrameSteps(buf: EpisodeBuffer, spec: WindowSpec, anchors: ArrayLike<number>, episodeOf = episodeIndexOfSteps(buf.episodeEnds)): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, offsets] of Object.entries(spec)) {
    if (!buf.frames?.[name]) continue;
    const steps = new Set<number>();
    for (let i = 0; i < anchors.length; i++) {
      const a = anchors[i], k = episodeOf[a];
      if (k === undefined) throw new ScdError(`anchor ${a} is outside the dataset (${episodeOf.length} steps)`);
      const s = episodeStart(buf.episodeEnds, k), e = buf.episodeEnds[k];
      for (const o of offsets) steps.add(Math.min(e - 1, Math.max(s, a + o)));
    }
    out[name] = [...steps].sort((x, y) => x - y);
  }
  return out;
}

/**
 * {@link sampleWindows} for any frame source: loads (decodes) the frames the windows hold, samples, releases them.
 * Start the next batch's call before training on this one and decoding overlaps training.
 */
export async function sampleWindowsAsync(buf: EpisodeBuffer, spec: WindowSpec, anchors: ArrayLike<number>, episodeOf = episodeIndexOfSteps(buf.episodeEnds)): Promise<WindowBatch> {
  const need = windowFrameSteps(buf, spec, anchors, episodeOf);
  const loaded: [FrameSource, number[]][] = [];
  try {
    for (const [name, steps] of Object.entries(need)) {
      await buf.frames![name].load(steps);
      loaded.push([buf.frames![name], steps]);
    }
    return sampleWindows(buf, spec, anchors, episodeOf);
  } finally {
    for (const [src, steps] of loaded) src.release(steps);
  }
}

/** Deterministic split of episode indices into train and validation (seeded shuffle). */
export function splitEpisodes(numEpisodes: number, valFraction: number, seed: number): { train: number[]; val: number[] } {
  const idx = [...Array(numEpisodes).keys()];
  let s = seed >>> 0 || 1;
  for (let i = idx.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const nVal = numEpisodes > 1 ? Math.max(valFraction > 0 ? 1 : 0, Math.round(numEpisodes * valFraction)) : 0;
  return { train: idx.slice(nVal).sort((a, b) => a - b), val: idx.slice(0, nVal).sort((a, b) => a - b) };
}
