/**
 * The trajectory data model (Diffusion Policy's ReplayBuffer): every feature is one flat Float32Array over all
 * steps of all episodes, plus `episodeEnds` (exclusive end index of each episode). Image features may instead be
 * held by a {@link FrameSource} in `frames` (read on demand, frames.ts), so a dataset of images need not fit in memory.
 */
import { ScdError } from "../errors.ts";
import { SliceFrames, type FrameSource } from "./frames.ts";

/** Element type of a feature: float32, or uint8 for images. */
export type FeatureDtype = "float32" | "uint8";
/** One feature's per-step shape and element type. */
export interface FeatureSpec {
  shape: number[]; // per step, e.g. [5], [9, 2]
  dtype?: FeatureDtype; // float32 unless said (uint8 for images)
}
/** A feature's values over steps, flat: Float32Array, or Uint8Array for uint8 features. */
export type FeatureArray = Float32Array | Uint8Array;
/** A zeroed array of `n` values of the feature's dtype. */
export const arrayFor = (spec: FeatureSpec, n: number): FeatureArray => (spec.dtype === "uint8" ? new Uint8Array(n) : new Float32Array(n));
/** The features of a dataset by name (e.g. "observation.state", "action"). */
export type Schema = Record<string, FeatureSpec>;

/** Every episode of a dataset: one flat array per feature over all steps, and where each episode ends. */
export interface EpisodeBuffer {
  schema: Schema;
  data: Record<string, FeatureArray>; // feature -> [steps * dim]
  episodeEnds: Int32Array; // [episodes], exclusive ends
  /** Image features read on demand (a feature is in `data` or here, never both). */
  frames?: Record<string, FrameSource>;
}

/** One episode as recorded: feature -> [length * dim]. */
export type Episode = Record<string, FeatureArray>;

/** Values per step of a feature: the product of its shape. */
export const featureDim = (spec: FeatureSpec): number => spec.shape.reduce((a, b) => a * b, 1);
/** Steps in a buffer, over all episodes. */
export const numSteps = (b: EpisodeBuffer): number => (b.episodeEnds.length ? b.episodeEnds[b.episodeEnds.length - 1] : 0);
/** Index of episode `k`'s first step, from the exclusive episode ends. */
export const episodeStart = (ends: ArrayLike<number>, k: number): number => (k === 0 ? 0 : ends[k - 1]);

/** Throws naming the feature and the mismatch when arrays, schema and episodeEnds disagree. */
export function validateBuffer(b: EpisodeBuffer, where = "dataset"): void {
  let prev = 0;
  for (let k = 0; k < b.episodeEnds.length; k++) {
    if (!(b.episodeEnds[k] > prev)) throw new ScdError(`${where}: episodeEnds[${k}] = ${b.episodeEnds[k]} is not greater than ${prev} (episodes must be non-empty and increasing)`);
    prev = b.episodeEnds[k];
  }
  for (const [name, spec] of Object.entries(b.schema)) {
    const arr = b.data[name], src = b.frames?.[name];
    if (src) {
      if (arr) throw new ScdError(`${where}: feature "${name}" has both data and a frame source`);
      if (src.length !== prev || src.shape.join() !== spec.shape.join())
        throw new ScdError(`${where}: feature "${name}" has ${src.length} frames of shape [${src.shape}], expected ${prev} of shape [${spec.shape}]`);
      continue;
    }
    if (!arr) throw new ScdError(`${where}: feature "${name}" is in the schema but has no data`);
    const want = prev * featureDim(spec);
    if (arr.length !== want) throw new ScdError(`${where}: feature "${name}" has ${arr.length} values, expected ${want} (${prev} steps x shape [${spec.shape}])`);
  }
  for (const name of [...Object.keys(b.data), ...Object.keys(b.frames ?? {})]) if (!b.schema[name]) throw new ScdError(`${where}: feature "${name}" has data but is not in the schema`);
}

/**
 * Copy of episode k of a buffer. Frames of a lazy image feature are read synchronously: fine for a .scdd file;
 * a video or Zarr source needs {@link loadEpisode}.
 */
export function getEpisode(b: EpisodeBuffer, k: number): Episode {
  if (k < 0 || k >= b.episodeEnds.length) throw new ScdError(`episode ${k} out of range (dataset has ${b.episodeEnds.length})`);
  const s = episodeStart(b.episodeEnds, k), e = b.episodeEnds[k];
  const out: Episode = {};
  for (const [name, spec] of Object.entries(b.schema)) {
    const d = featureDim(spec), src = b.frames?.[name];
    if (!src) {
      out[name] = b.data[name].slice(s * d, e * d);
      continue;
    }
    const arr = new Uint8Array((e - s) * d);
    for (let t = s; t < e; t++) arr.set(src.frame(t), (t - s) * d);
    out[name] = arr;
  }
  return out;
}

/** Copy of episode k, its lazy image frames loaded first (any source: file, Zarr chunks, video). */
export async function loadEpisode(b: EpisodeBuffer, k: number): Promise<Episode> {
  if (k < 0 || k >= b.episodeEnds.length) throw new ScdError(`episode ${k} out of range (dataset has ${b.episodeEnds.length})`);
  const steps = Array.from({ length: b.episodeEnds[k] - episodeStart(b.episodeEnds, k) }, (_, i) => episodeStart(b.episodeEnds, k) + i);
  const srcs = Object.values(b.frames ?? {});
  for (const src of srcs) await src.load(steps);
  try {
    return getEpisode(b, k);
  } finally {
    for (const src of srcs) src.release(steps);
  }
}

/** The first `n` episodes of a buffer: views of its arrays, its frame sources cut (nothing is read). */
export function firstEpisodes(b: EpisodeBuffer, n: number): EpisodeBuffer {
  const episodeEnds = b.episodeEnds.slice(0, Math.max(0, Math.min(n, b.episodeEnds.length)));
  const steps = episodeEnds.at(-1) ?? 0;
  const data = Object.fromEntries(Object.entries(b.data).map(([k, v]) => [k, v.subarray(0, steps * featureDim(b.schema[k]))]));
  const frames = b.frames && Object.fromEntries(Object.entries(b.frames).map(([k, src]) => [k, new SliceFrames(src, steps)]));
  return { schema: b.schema, data, episodeEnds, ...(frames ? { frames } : {}) };
}

/** Concatenate episodes into a buffer (used by readers and recorders). */
export function concatEpisodes(schema: Schema, episodes: Episode[]): EpisodeBuffer {
  const lengths = episodes.map((ep, k) => episodeLength(schema, ep, `episode ${k}`));
  const total = lengths.reduce((a, b) => a + b, 0);
  const data: Record<string, FeatureArray> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const arr = arrayFor(spec, total * featureDim(spec));
    let off = 0;
    for (const ep of episodes) {
      arr.set(ep[name], off);
      off += ep[name].length;
    }
    data[name] = arr;
  }
  const episodeEnds = new Int32Array(lengths.length);
  lengths.reduce((acc, n, k) => (episodeEnds[k] = acc + n), 0);
  return { schema, data, episodeEnds };
}

/** Number of steps in an episode; every feature must agree. */
export function episodeLength(schema: Schema, ep: Episode, where: string): number {
  let n = -1;
  for (const [name, spec] of Object.entries(schema)) {
    const arr = ep[name];
    if (!arr) throw new ScdError(`${where}: missing feature "${name}"`);
    const want = spec.dtype === "uint8" ? Uint8Array : Float32Array;
    if (!(arr instanceof want)) throw new ScdError(`${where}: feature "${name}" must be a ${want.name}, got ${Object.prototype.toString.call(arr)}`);
    const d = featureDim(spec);
    if (arr.length % d !== 0) throw new ScdError(`${where}: feature "${name}" has ${arr.length} values, not a multiple of shape [${spec.shape}] (${d})`);
    const len = arr.length / d;
    if (n >= 0 && len !== n) throw new ScdError(`${where}: feature "${name}" has ${len} steps but others have ${n}`);
    n = len;
  }
  for (const name of Object.keys(ep)) if (!schema[name]) throw new ScdError(`${where}: feature "${name}" is not in the schema (${Object.keys(schema).join(", ")})`);
  if (n <= 0) throw new ScdError(`${where}: episode is empty`);
  return n;
}

/**
 * The first value of `feature` that is NaN or ±Infinity, located as a person would look it up (episode, frame within
 * it, dimension), or null when every value is finite.
 */
export function firstNonFinite(b: EpisodeBuffer, feature: string): { episode: number; frame: number; dim: number; value: number } | null {
  const data = b.data[feature], d = featureDim(b.schema[feature]);
  if (!data) return null; // a lazy image feature: bytes are always finite
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i])) {
      const step = Math.floor(i / d);
      let k = 0;
      while (b.episodeEnds[k] <= step) k++;
      return { episode: k, frame: step - (k ? b.episodeEnds[k - 1] : 0), dim: i % d, value: data[i] };
    }
  return null;
}
