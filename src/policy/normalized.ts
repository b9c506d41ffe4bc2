/**
 * The part of a learned policy that is the same whatever runs the network (tfjs in learned.ts, ONNX Runtime in
 * src/deploy/onnx-policy.ts): observations → normalized frame vectors (frames.ts), seeded sampling, and
 * unnormalized chunks. Subclasses provide the once-per-frame step and the normalized chunk [B·H·A].
 */
import type { ChunkPolicy, Frame } from "./types.ts";
import { frameFromObs, type FrameLayout } from "./frames.ts";
import { unnormalize, type NormSet } from "../data/normalizer.ts";
import { Rng } from "../util/rng.ts";

export abstract class NormalizedChunkPolicy implements ChunkPolicy {
  readonly requiredFeatures: readonly string[];
  private readonly frame: Float32Array<ArrayBuffer>;
  private rngSeed = 0;

  constructor(readonly name: string, readonly layout: FrameLayout, readonly norms: NormSet, readonly horizon: number, readonly actionDim: number, readonly defaultSteps: number, readonly batch = 1) {
    this.frame = new Float32Array(layout.frameDim);
    this.requiredFeatures = layout.obsFeatures.map((f) => f.name);
  }

  /** Clear the per-stream state (KV cache, frame history) for `batch` streams. */
  protected abstract resetState(batch: number): void;
  /** One normalized frame vector [B·frameDim]: the once-per-frame step. */
  protected abstract observeFrame(frame: Float32Array): void;
  /** A chunk [B·H·A] in normalized units. */
  abstract sampleNormalized(steps: number, rng: Rng): Float32Array;
  abstract dispose(): void;

  reset(seed = 0): void {
    this.rngSeed = seed;
    this.resetState(this.batch);
  }

  observe(f: Frame): void {
    this.observeFrame(frameFromObs(this.layout, this.norms, f.obs, f.prevAction, this.frame));
  }

  sampleChunk(opts: { steps?: number; seed?: number } = {}): Float32Array {
    const rng = new Rng(opts.seed ?? this.rngSeed);
    return unnormalize(this.norms.action, this.sampleNormalized(opts.steps ?? this.defaultSteps, rng));
  }
}
