/**
 * The two objectives on tensors, shared by every diffusion policy: noising clean chunks for training, and the
 * sampling loop (sampler.ts: Euler for flow matching, DDIM for ε-prediction) around a model's denoise function.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";
import { type Objective, logitNormal, alphasCumprod, noiseLevelDdpm, DDPM_TRAIN_STEPS } from "./schedules.ts";
import { sampleLoop, tileGuide, type ChunkOps, type SampleGuide } from "./sampler.ts";
import { tfOps } from "../nn/tf-ops.ts";
import { pigdmSample } from "./pigdm.ts";
import { PIGDM_BETA } from "./sampler.ts";
import { ScdError } from "../errors.ts";

export { sampleLoop, sampleChunksArray, samplerLevels, ARRAY_OPS, type ChunkOps, type SampleGuide } from "./sampler.ts";

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

/**
 * Clip to the normalized action range [−1, 1], except that a non-finite value becomes NaN: clipping ±Infinity
 * (an overflow inside the model) to ±1 would pass garbage off as a valid action. Call inside a tidy.
 */
export function clipFinite(a: tf.Tensor): tf.Tensor {
  return tfOps.clip(a, -1, 1);
}

const TF_OPS: ChunkOps<tf.Tensor> = { add: (a, b) => a.add(b), sub: (a, b) => a.sub(b), mul: (a, k) => a.mul(k), div: (a, k) => a.div(k), clip: clipFinite, mulEl: (a, b) => a.mul(b) };

/**
 * From pure noise [N, H, A] to a chunk in `steps` calls of denoise(x, levels); a guide's `pigdm` method takes the
 * gradient path (pigdm.ts). Call inside a tidy.
 * @throws ScdError when `pigdm` guidance is asked of an ε-prediction (DDIM) model.
 */
export function sampleChunks(objective: Objective, steps: number, shape: [number, number, number], rng: Rng, denoise: (x: tf.Tensor, levels: Float32Array, step: number) => tf.Tensor, guide?: SampleGuide): tf.Tensor {
  const N = shape[0], size = shape[0] * shape[1] * shape[2];
  const x = tf.tensor(rng.normals(size), shape);
  const g = tileGuide(guide, size);
  const tg = g && { target: tf.tensor(g.target, shape), weights: tf.tensor(g.weights, shape) };
  const den = (xx: tf.Tensor, level: number, i: number) => denoise(xx, new Float32Array(N).fill(level), i); // one level for the batch
  if (tg && guide!.method === "pigdm") {
    if (objective !== "flow") throw new ScdError(`ΠGDM guidance (rtc guidance "pigdm") is implemented for flow-matching policies; this one samples with DDIM: use "inpaint"`, "bad-value");
    return clipFinite(pigdmSample(steps, x, tg.target, tg.weights, guide!.beta ?? PIGDM_BETA, den));
  }
  return sampleLoop(objective, steps, x, TF_OPS, den, tg);
}
