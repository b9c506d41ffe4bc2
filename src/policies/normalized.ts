/**
 * The part of a learned policy that is the same whatever runs the network (tfjs in learned.ts, ONNX Runtime in
 * src/deploy/onnx-policy.ts): observations → normalized frame vectors (frames.ts), seeded sampling, and
 * unnormalized chunks. Subclasses provide the once-per-frame step and the normalized chunk [B·H·A].
 */
import type { ChunkPolicy, ChunkGuide, Frame } from "./types.ts";
import type { SampleGuide } from "../diffusion/sampler.ts";
import { frameFromObs, imagesFromObs, type FrameLayout } from "./frames.ts";
import { normalize, unnormalize, type NormSet } from "../datasets/normalizer.ts";
import { Rng } from "../util/rng.ts";
import { ScdError } from "../errors.ts";

/** The runtime-independent part of a learned policy: observations to normalized frames, seeded sampling, chunks back in the env's units. */
export abstract class NormalizedChunkPolicy implements ChunkPolicy {
  readonly requiredFeatures: readonly string[];
  readonly featureDims: Readonly<Record<string, number>>;
  private readonly frame: Float32Array<ArrayBuffer>;
  private rngSeed = 0;

  constructor(readonly name: string, readonly layout: FrameLayout, readonly norms: NormSet, readonly horizon: number, readonly actionDim: number, readonly defaultSteps: number, readonly batch = 1) {
    this.frame = new Float32Array(layout.frameDim);
    const images = (layout.images ?? []).map((f) => ({ name: f.name, dim: f.shape[0] * f.shape[1] * f.shape[2] }));
    this.requiredFeatures = [...layout.obsFeatures, ...images].map((f) => f.name);
    this.featureDims = Object.fromEntries([...layout.obsFeatures, ...images].map((f) => [f.name, f.dim]));
  }

  /** Clear the per-stream state (KV cache, frame history) for `batch` streams. */
  protected abstract resetState(batch: number): void;
  /** One normalized frame vector [B·frameDim] and the layout's normalized images ([H·W·3] each; [] without): the once-per-frame step. */
  protected abstract observeFrame(frame: Float32Array, images: Float32Array[]): void;
  /** A chunk [B·H·A] in normalized units; `guide` (normalized) asks it to continue a plan. */
  abstract sampleNormalized(steps: number, rng: Rng, guide?: SampleGuide): Float32Array;
  /** Release what the runtime holds. */
  abstract dispose(): void;

  /** Start an episode: clear the per-stream state; `seed` seeds the sampling noise of the chunks that follow. */
  reset(seed = 0): void {
    this.rngSeed = seed;
    this.resetState(this.batch);
  }

  /**
   * @throws Error naming the feature when the normalized frame or an image is not finite (NaN or ±Infinity never
   * reach a model); ScdError when an image is missing or not of the trained shape.
   */
  observe(f: Frame): void {
    const v = frameFromObs(this.layout, this.norms, f.obs, f.prevAction, this.frame);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new Error(`frame is not finite: ${frameSlot(this.layout, f, i)} normalizes to ${v[i]}`);
    const images = imagesFromObs(this.layout, this.norms, f.obs);
    images.forEach((im, k) => {
      const i = im.findIndex((x) => !Number.isFinite(x));
      if (i >= 0) throw new Error(`image is not finite: observation "${this.layout.images![k].name}"[${i}] = ${f.obs[this.layout.images![k].name][i]}`);
    });
    this.observeFrame(v, images);
  }

  /**
   * @throws ScdError naming the option when `steps` is not an integer in 1..10000 or `seed` not an integer.
   * @throws Error when the model's chunk is not finite (the loop turns it into an error event and a fallback).
   */
  sampleChunk(opts: { steps?: number; seed?: number; guide?: ChunkGuide } = {}): Float32Array {
    if (opts.steps !== undefined && !(Number.isInteger(opts.steps) && opts.steps >= 1 && opts.steps <= 10000))
      throw new ScdError(`${this.name}.sampleChunk: steps (denoising steps) must be an integer from 1 to 10000, got ${opts.steps}`);
    if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new ScdError(`${this.name}.sampleChunk: seed must be an integer, got ${opts.seed}`);
    const rng = new Rng(opts.seed ?? this.rngSeed);
    const a = unnormalize(this.norms.action, this.sampleNormalized(opts.steps ?? this.defaultSteps, rng, opts.guide && this.normalizedGuide(opts.guide)));
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new Error(`${this.name} sampled a chunk that is not finite (value ${i} is ${a[i]})`);
    return a;
  }

  /** A guide in the model's units: the plan normalized like actions, each index's weight repeated over its values. */
  private normalizedGuide(g: ChunkGuide): SampleGuide {
    const H = this.horizon, A = this.actionDim;
    if (g.prefix.length !== H * A || g.weights.length !== H) throw new ScdError(`${this.name}.sampleChunk: guide needs ${H * A} plan values and ${H} weights, got ${g.prefix.length} and ${g.weights.length}`);
    return { target: normalize(this.norms.action, g.prefix), weights: Float32Array.from({ length: H * A }, (_, i) => g.weights[Math.floor(i / A)]), ...(g.method ? { method: g.method } : {}), ...(g.beta !== undefined ? { beta: g.beta } : {}) };
  }
}

/** Which input a frame slot comes from, with its raw value, for error messages. */
function frameSlot(L: FrameLayout, f: Frame, i: number): string {
  let o = 0;
  for (const feat of L.obsFeatures) {
    if (i < o + feat.dim) return `observation "${feat.name}"[${i - o}] = ${f.obs[feat.name]?.[i - o]}`;
    o += feat.dim;
  }
  return i - o < L.actionDim ? `previous action[${i - o}] = ${f.prevAction?.[i - o]}` : `frame value ${i}`;
}
