/**
 * The trajectory data model (Diffusion Policy's ReplayBuffer): every feature is one flat Float32Array over all
 * steps of all episodes, plus `episodeEnds` (exclusive end index of each episode).
 */
import { ScdError } from "../errors.ts";

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
    const arr = b.data[name];
    if (!arr) throw new ScdError(`${where}: feature "${name}" is in the schema but has no data`);
    const want = prev * featureDim(spec);
    if (arr.length !== want) throw new ScdError(`${where}: feature "${name}" has ${arr.length} values, expected ${want} (${prev} steps x shape [${spec.shape}])`);
  }
  for (const name of Object.keys(b.data)) if (!b.schema[name]) throw new ScdError(`${where}: feature "${name}" has data but is not in the schema`);
}

/** Copy of episode k of a buffer. */
export function getEpisode(b: EpisodeBuffer, k: number): Episode {
  if (k < 0 || k >= b.episodeEnds.length) throw new ScdError(`episode ${k} out of range (dataset has ${b.episodeEnds.length})`);
  const s = episodeStart(b.episodeEnds, k), e = b.episodeEnds[k];
  const out: Episode = {};
  for (const [name, spec] of Object.entries(b.schema)) {
    const d = featureDim(spec);
    out[name] = b.data[name].slice(s * d, e * d);
  }
  return out;
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
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i])) {
      const step = Math.floor(i / d);
      let k = 0;
      while (b.episodeEnds[k] <= step) k++;
      return { episode: k, frame: step - (k ? b.episodeEnds[k - 1] : 0), dim: i % d, value: data[i] };
    }
  return null;
}
