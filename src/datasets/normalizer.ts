/**
 * Normalizers fitted from data, stored as plain serialisable objects. min-max maps each dimension to [-1, 1]
 * (Diffusion Policy); mean-std standardises. Constant dimensions get a unit range so nothing divides by zero.
 * Images (uint8 [H, W, C]) are normalized per channel, never by a min–max over pixels: x/255 mapped to [-1, 1]
 * (Diffusion Policy), or (x/255 − mean_c) / std_c with per-channel statistics in [0, 1] units (lerobot's stats).
 */

/**
 * Ranges (and standard deviations) below this are treated as constant (Diffusion Policy's `range_eps`): a
 * dimension that is constant up to float32 jitter (range ~1e-7) would otherwise get a scale of ~1e7, and a
 * run-time value a little off the training constant would normalize to hundreds.
 */
export const RANGE_EPS = 1e-4;
import { z } from "zod";
import { ScdError } from "../errors.ts";

/** The schema of one feature's normalizer as stored in checkpoints and exports (zod). */
export const NormStatsSchema = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("minmax"), min: z.array(z.number()), max: z.array(z.number()) }),
  z.object({ mode: z.literal("meanstd"), mean: z.array(z.number()), std: z.array(z.number()) }),
  z.object({ mode: z.literal("identity"), dim: z.number().int().positive() }),
  // images, channels last: x/255 → [-1, 1] without mean/std; (x/255 − mean[c]) / std[c] with them
  z.object({ mode: z.literal("image"), shape: z.array(z.number().int().positive()).length(3), mean: z.array(z.number()).optional(), std: z.array(z.number()).optional() }),
]);
/** One feature's normalizer: min-max to [−1, 1], mean/std, or identity; plain JSON. */
export type NormStats = z.infer<typeof NormStatsSchema>;
export type NormMode = NormStats["mode"];
/** The schema of a set of normalizers by feature name (zod). */
export const NormSetSchema = z.record(z.string(), NormStatsSchema);
/** Normalizers by feature name ("observation.state", "action", …). */
export type NormSet = z.infer<typeof NormSetSchema>;

export interface FeatureStats {
  min: number[];
  max: number[];
  mean: number[];
  std: number[];
}

/** Per-dimension min / max / mean / std of a flat [N * dim] array (float64 accumulation). */
export function computeStats(flat: ArrayLike<number>, dim: number): FeatureStats {
  const n = flat.length / dim;
  const min = new Array(dim).fill(Infinity), max = new Array(dim).fill(-Infinity);
  const sum = new Float64Array(dim), sq = new Float64Array(dim);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < dim; j++) {
      const x = flat[i * dim + j];
      if (x < min[j]) min[j] = x;
      if (x > max[j]) max[j] = x;
      sum[j] += x;
    }
  const mean = Array.from(sum, (s) => s / n);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) sq[j] += (flat[i * dim + j] - mean[j]) ** 2;
  const std = Array.from(sq, (s) => Math.sqrt(s / n));
  return { min, max, mean, std };
}

/**
 * Normalizer statistics of `flat` ([rows, dim], row-major). `what` names the data in errors ("data.scdd: feature "x"").
 * @throws ScdError naming `what`, the row and dimension, when the data is empty, ragged or not finite.
 */
export function fitNormalizer(flat: Float32Array, dim: number, mode: Exclude<NormMode, "image">, what = "data"): NormStats {
  if (flat.length === 0 || flat.length % dim !== 0) throw new ScdError(`${what}: cannot fit a normalizer on ${flat.length} values of dimension ${dim}`);
  for (let i = 0; i < flat.length; i++) if (!Number.isFinite(flat[i])) throw new ScdError(`${what}: cannot fit a normalizer: value ${flat[i]} at row ${Math.floor(i / dim)}, dimension ${i % dim} is not finite`);
  if (mode === "identity") return { mode, dim };
  const s = computeStats(flat, dim);
  return mode === "minmax" ? { mode, min: s.min, max: s.max } : { mode, mean: s.mean, std: s.std };
}

/**
 * Per-channel min / max / mean / std of image frames (channels last, pixel units 0..255), accumulated batch by batch
 * so a large sample need not be in memory at once (float64 sums; values are bytes, so E[x²] − mean² is exact enough).
 */
export class ChannelStats {
  private readonly sum: Float64Array;
  private readonly sq: Float64Array;
  private readonly lo: number[];
  private readonly hi: number[];
  private n = 0;
  constructor(readonly channels: number) {
    this.sum = new Float64Array(channels);
    this.sq = new Float64Array(channels);
    this.lo = new Array(channels).fill(Infinity);
    this.hi = new Array(channels).fill(-Infinity);
  }
  /** Add pixels: any number of frames [.., C] flat. */
  add(px: ArrayLike<number>): void {
    const C = this.channels;
    for (let i = 0; i < px.length; i++) {
      const c = i % C, x = px[i];
      this.sum[c] += x;
      this.sq[c] += x * x;
      if (x < this.lo[c]) this.lo[c] = x;
      if (x > this.hi[c]) this.hi[c] = x;
    }
    this.n += px.length / C;
  }
  /** The statistics so far. @throws ScdError naming `what` when no pixel was added. */
  result(what = "images"): FeatureStats {
    if (!this.n) throw new ScdError(`${what}: no pixels to compute channel statistics from`);
    const mean = Array.from(this.sum, (s) => s / this.n);
    return { min: [...this.lo], max: [...this.hi], mean, std: Array.from(this.sq, (q, c) => Math.sqrt(Math.max(0, q / this.n - mean[c] ** 2))) };
  }
}

/**
 * The normalizer of an image feature of `shape` [H, W, C]: "unit" maps x/255 to [-1, 1] (needs no data); "meanstd"
 * standardises each channel with `stats` ({@link ChannelStats} of a sample of frames, pixel units).
 * @throws ScdError naming `what` for a shape that is not [H, W, C], or meanstd without stats of C channels.
 */
export function imageNormalizer(shape: readonly number[], mode: "unit" | "meanstd", stats?: Pick<FeatureStats, "mean" | "std">, what = "image"): NormStats {
  if (shape.length !== 3) throw new ScdError(`${what}: an image normalizer needs a shape [H, W, C], got [${shape}]`);
  if (mode === "unit") return { mode: "image", shape: [...shape] };
  const C = shape[2];
  if (!stats || stats.mean.length !== C || stats.std.length !== C) throw new ScdError(`${what}: meanstd image normalization needs ${C} channel means and stds, got ${stats ? `${stats.mean.length} and ${stats.std.length}` : "none"}`);
  return { mode: "image", shape: [...shape], mean: stats.mean.map((m) => m / 255), std: stats.std.map((v) => v / 255) };
}

export function normDim(s: NormStats): number {
  return s.mode === "minmax" ? s.min.length : s.mode === "meanstd" ? s.mean.length : s.mode === "image" ? s.shape[0] * s.shape[1] * s.shape[2] : s.dim;
}

/** Per-dimension affine map x -> x * scale + shift. */
export function affine(s: NormStats): { scale: Float32Array; shift: Float32Array } {
  const d = normDim(s);
  const scale = new Float32Array(d).fill(1), shift = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    if (s.mode === "minmax") {
      const range = s.max[j] - s.min[j];
      const constant = !(range >= RANGE_EPS);
      const r = constant ? 2 : range; // constant dimension: x ↦ x − min (scale 1), as Diffusion Policy
      scale[j] = 2 / r;
      shift[j] = constant ? -s.min[j] * scale[j] : -1 - s.min[j] * scale[j];
    } else if (s.mode === "meanstd") {
      const sd = s.std[j] >= RANGE_EPS ? s.std[j] : 1;
      scale[j] = 1 / sd;
      shift[j] = -s.mean[j] / sd;
    } else if (s.mode === "image") {
      const c = j % s.shape[2];
      const ms = s.mean && s.std; // without both: unit, (x/255 − 0.5) / 0.5
      const sd = ms ? (s.std![c] >= RANGE_EPS ? s.std![c] : 1) : 0.5, m = ms ? s.mean![c] : 0.5;
      scale[j] = 1 / (255 * sd);
      shift[j] = -m / sd;
    }
  }
  return { scale, shift };
}

function check(s: NormStats, x: Float32Array): number {
  const d = normDim(s);
  if (x.length % d !== 0) throw new ScdError(`normalizer of dimension ${d} applied to ${x.length} values`);
  return d;
}

/** Normalize values (any number of rows of the normalizer's dimension); a new array. */
export function normalize(s: NormStats, x: Float32Array): Float32Array {
  const d = check(s, x);
  const { scale, shift } = affine(s);
  return x.map((v, i) => v * scale[i % d] + shift[i % d]);
}

/** Undo {@link normalize}: normalized values back to data units; a new array. */
export function unnormalize(s: NormStats, y: Float32Array): Float32Array {
  const d = check(s, y);
  const { scale, shift } = affine(s);
  return y.map((v, i) => (v - shift[i % d]) / scale[i % d]);
}

export function parseNormSet(raw: unknown, where: string): NormSet {
  const r = NormSetSchema.safeParse(raw);
  if (!r.success) throw new ScdError(`${where}: invalid normalizer stats: ${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`);
  return r.data;
}
