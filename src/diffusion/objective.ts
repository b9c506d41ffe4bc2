/**
 * The two objectives on tensors, shared by every diffusion policy: noising clean chunks for training, and the
 * sampling loop (Euler for flow matching, DDIM for ε-prediction) around a model's denoise function.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";
import { type Objective, logitNormal, flowSigmas, alphasCumprod, ddimTimesteps, noiseLevelDdpm, DDPM_TRAIN_STEPS } from "./schedules.ts";

const ABAR = alphasCumprod();

/** x0 [N, H, A] → noisy input, regression target and per-item noise levels in [0, 1]. */
export function noisyTargets(x0: tf.Tensor, rng: Rng, objective: Objective): { xt: tf.Tensor; target: tf.Tensor; levels: Float32Array } {
  const N = x0.shape[0]!;
  const eps = tf.tensor(rng.normals(x0.size), x0.shape);
  if (objective === "flow") {
    const levels = logitNormal(rng, N);
    const s = tf.tensor(levels, [N, 1, 1]);
    return { xt: x0.mul(tf.sub(1, s)).add(eps.mul(s)), target: eps.sub(x0), levels }; // (1−σ)x + σε; v = ε − x
  }
  const ts = Int32Array.from({ length: N }, () => rng.int(DDPM_TRAIN_STEPS));
  const ab = Float32Array.from(ts, (t) => ABAR[t]);
  const xt = x0.mul(tf.tensor(ab.map(Math.sqrt), [N, 1, 1])).add(eps.mul(tf.tensor(ab.map((a) => Math.sqrt(1 - a)), [N, 1, 1])));
  return { xt, target: eps, levels: Float32Array.from(ts, (t) => noiseLevelDdpm(t)) };
}

/** The arithmetic the sampling loop needs, so one loop runs on tfjs tensors and on plain arrays (ONNX runtime). */
export interface ChunkOps<T> {
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, k: number): T;
  div(a: T, k: number): T;
  /** Clip to the normalized action range [−1, 1]; a non-finite value becomes NaN (never a valid-looking ±1). */
  clip(a: T): T;
}

/** The sampling loop: from noise x to a chunk in `steps` calls of denoise(x, level, step) (v for flow, ε for DDPM). */
export function sampleLoop<T>(objective: Objective, steps: number, x0: T, ops: ChunkOps<T>, denoise: (x: T, level: number, step: number) => T): T {
  let x = x0;
  if (objective === "flow") {
    const s = flowSigmas(steps);
    for (let i = 0; i < steps; i++) x = ops.add(x, ops.mul(denoise(x, s[i], i), s[i + 1] - s[i])); // dx/dσ = v
  } else {
    const ts = ddimTimesteps(steps);
    for (let i = 0; i < ts.length; i++) {
      const ab = ABAR[ts[i]], abNext = i + 1 < ts.length ? ABAR[ts[i + 1]] : 1;
      const eps = denoise(x, noiseLevelDdpm(ts[i]), i);
      const x0 = ops.clip(ops.div(ops.sub(x, ops.mul(eps, Math.sqrt(1 - ab))), Math.sqrt(ab)));
      x = ops.add(ops.mul(x0, Math.sqrt(abNext)), ops.mul(eps, Math.sqrt(1 - abNext)));
    }
  }
  return ops.clip(x);
}

/**
 * Clip to the normalized action range [−1, 1], except that a non-finite value becomes NaN: clipping ±Infinity
 * (an overflow inside the model) to ±1 would pass garbage off as a valid action. Call inside a tidy.
 */
export function clipFinite(a: tf.Tensor): tf.Tensor {
  return tf.where(tf.isFinite(a), a.clipByValue(-1, 1), tf.fill(a.shape, NaN));
}

const TF_OPS: ChunkOps<tf.Tensor> = { add: (a, b) => a.add(b), sub: (a, b) => a.sub(b), mul: (a, k) => a.mul(k), div: (a, k) => a.div(k), clip: clipFinite };

/** Float32 element-wise ops (results rounded to float32 like the tensors'). */
export const ARRAY_OPS: ChunkOps<Float32Array> = {
  add: (a, b) => a.map((v, i) => v + b[i]),
  sub: (a, b) => a.map((v, i) => v - b[i]),
  mul: (a, k) => a.map((v) => v * k),
  div: (a, k) => a.map((v) => v / k),
  clip: (a) => a.map((v) => (Number.isFinite(v) ? Math.min(1, Math.max(-1, v)) : NaN)), // as clipFinite
};

/** From pure noise [N, H, A] to a chunk in `steps` calls of denoise(x, levels). */
export function sampleChunks(objective: Objective, steps: number, shape: [number, number, number], rng: Rng, denoise: (x: tf.Tensor, levels: Float32Array, step: number) => tf.Tensor): tf.Tensor {
  const N = shape[0];
  const x = tf.tensor(rng.normals(shape[0] * shape[1] * shape[2]), shape);
  return sampleLoop(objective, steps, x, TF_OPS, (xx, level, i) => denoise(xx, new Float32Array(N).fill(level), i));
}

/** The same loop on plain arrays: the noise is drawn from rng exactly as sampleChunks draws it. */
export function sampleChunksArray(objective: Objective, steps: number, size: number, rng: Rng, denoise: (x: Float32Array, level: number, step: number) => Float32Array): Float32Array {
  return sampleLoop(objective, steps, Float32Array.from(rng.normals(size)), ARRAY_OPS, denoise);
}

/** The noise levels the sampler will visit, in order (models precompute their conditioning from them). */
export function samplerLevels(objective: Objective, steps: number): number[] {
  return objective === "flow" ? flowSigmas(steps).slice(0, steps) : ddimTimesteps(steps).map((t) => noiseLevelDdpm(t));
}
