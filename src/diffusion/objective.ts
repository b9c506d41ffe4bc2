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

/** From pure noise [N, H, A] to a chunk in `steps` calls of denoise(x, levels). */
export function sampleChunks(objective: Objective, steps: number, shape: [number, number, number], rng: Rng, denoise: (x: tf.Tensor, levels: Float32Array, step: number) => tf.Tensor): tf.Tensor {
  const N = shape[0];
  let x: tf.Tensor = tf.tensor(rng.normals(shape[0] * shape[1] * shape[2]), shape);
  if (objective === "flow") {
    const s = flowSigmas(steps);
    for (let i = 0; i < steps; i++) x = x.add(denoise(x, new Float32Array(N).fill(s[i]), i).mul(s[i + 1] - s[i])); // dx/dσ = v
  } else {
    const ts = ddimTimesteps(steps);
    for (let i = 0; i < ts.length; i++) {
      const ab = ABAR[ts[i]], abNext = i + 1 < ts.length ? ABAR[ts[i + 1]] : 1;
      const eps = denoise(x, new Float32Array(N).fill(noiseLevelDdpm(ts[i])), i);
      const x0 = x.sub(eps.mul(Math.sqrt(1 - ab))).div(Math.sqrt(ab)).clipByValue(-1, 1);
      x = x0.mul(Math.sqrt(abNext)).add(eps.mul(Math.sqrt(1 - abNext)));
    }
  }
  return x.clipByValue(-1, 1);
}

/** The noise levels the sampler will visit, in order (models precompute their conditioning from them). */
export function samplerLevels(objective: Objective, steps: number): number[] {
  return objective === "flow" ? flowSigmas(steps).slice(0, steps) : ddimTimesteps(steps).map((t) => noiseLevelDdpm(t));
}
