/**
 * A learned policy on tfjs as the control loop sees it (ChunkPolicy): normalization and seeding come from
 * NormalizedChunkPolicy (shared with the ONNX runtime); observe() runs the model's once-per-frame step. Also weights
 * in and out. Browser-safe: checkpoint files are read by checkpoint-loader.ts (Node) or src/web/checkpoint-web.ts.
 */
import type { SampleGuide } from "../diffusion/sampler.ts";
import * as tf from "@tensorflow/tfjs";
import { ScdError } from "../errors.ts";
import type { PolicyModel } from "./registry.ts";
import type { FrameLayout } from "./frames.ts";
import type { NormSet } from "../datasets/normalizer.ts";
import { NormalizedChunkPolicy } from "./normalized.ts";
import { Rng } from "../util/rng.ts";
import type { Weights } from "./registry.ts";

/** A learned policy on TensorFlow.js as the control loop runs it: a {@link ChunkPolicy} over a registered policy's model. */
export class LearnedPolicy extends NormalizedChunkPolicy {
  constructor(name: string, readonly model: PolicyModel, layout: FrameLayout, norms: NormSet, batch = 1) {
    super(name, layout, norms, model.horizon, model.actionDim, model.defaultSteps, batch);
  }

  protected resetState(batch: number): void {
    this.model.reset(batch);
  }

  /** One frame [frameDim] and its normalized images ([H·W·3] each, the layout's order) → the model's step. */
  protected observeFrame(v: Float32Array, images: Float32Array[] = []): void {
    // not in a tidy: the model keeps its per-frame state (KV cache, context) across calls. A copy: the cpu
    // backend keeps the array it is given, and the caller reuses `v` for the next frame (dp-unet keeps frames)
    const x = tf.tensor(v.slice(), [1, v.length]);
    const ims = images.map((im, i) => tf.tensor(im, [1, ...this.layout.images![i].shape]));
    try {
      if (ims.length) this.model.observe(x, ims);
      else this.model.observe(x);
    } finally {
      tf.dispose([x, ...ims]);
    }
  }

  sampleNormalized(steps: number, rng: Rng, guide?: SampleGuide): Float32Array {
    const t = this.model.sample(steps, rng, guide);
    const y = t.dataSync() as Float32Array;
    t.dispose();
    return y;
  }

  /** Release the model's tensors. */
  dispose(): void {
    this.model.dispose();
  }
}

export function modelWeights(model: PolicyModel, source?: Map<string, tf.Variable>): Weights {
  return Object.fromEntries([...(source ?? model.parameters())].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
}

export function loadWeightsInto(model: PolicyModel, w: Weights, where: string): void {
  const params = model.parameters();
  for (const [k, p] of params) {
    const arr = w[k];
    if (!arr) throw new ScdError(`${where}: weights have no "${k}" (architecture differs from the config?)`);
    if (arr.length !== p.size) throw new ScdError(`${where}: "${k}" has ${arr.length} values, the model expects ${p.size} (shape [${p.shape}])`);
    for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) throw new ScdError(`${where}: "${k}" contains a non-finite value`);
    tf.tidy(() => p.assign(tf.tensor(arr, p.shape))); // the temporary would leak once per parameter per load
  }
  const extra = Object.keys(w).filter((k) => !params.has(k));
  if (extra.length) throw new ScdError(`${where}: weights have unknown parameters: ${extra.slice(0, 3).join(", ")}`);
}
