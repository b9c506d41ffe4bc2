/**
 * The sampling loop without tfjs (Euler for flow matching, DDIM for ε-prediction): generic over the arithmetic, so
 * objective.ts runs it on tfjs tensors and the ONNX runtimes (Node and the browser) on plain arrays.
 */
import type { Rng } from "../util/rng.ts";
import type { Ops } from "../nn/ops.ts";
import { ScdError } from "../errors.ts";
import { type Objective, flowSigmas, alphasCumprod, ddimTimesteps, noiseLevelDdpm } from "./schedules.ts";

const ABAR = alphasCumprod();

/** The arithmetic the sampling loop needs, so one loop runs on tfjs tensors and on plain arrays (ONNX runtime). */
export interface ChunkOps<T> {
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, k: number): T;
  div(a: T, k: number): T;
  /** Clip to the normalized action range [−1, 1]; a non-finite value becomes NaN (never a valid-looking ±1). */
  clip(a: T): T;
  /** Element-wise product. */
  mulEl(a: T, b: T): T;
}

/**
 * A chunk to continue (real-time chunking), in normalized units: `target` [H·A] and `weights` [H·A] in [0, 1]
 * (repeated over the batch). Gradient-free inpainting: after every denoising step the sample is pulled toward the
 * target noised to the step's level along the sampler's own path from the initial noise (x_σ = σ·ε + (1 − σ)·y for
 * flow, √ᾱ·y + √(1 − ᾱ)·ε for DDIM) by `weights`, so indices of weight 1 end exactly on the target and those
 * between 0 and 1 lean toward it (the replacement method of RePaint, Lugmayr et al. 2022, with the soft mask of
 * Black et al. 2025 in place of their guidance gradient, which runtimes without autodiff cannot compute).
 */
export interface SampleGuide {
  target: Float32Array;
  weights: Float32Array;
  /**
   * `inpaint` (default): the gradient-free pull above, on every runtime. `pigdm`: Black et al. 2025's guidance
   * (ΠGDM, Song et al. 2023): the velocity is corrected along the vector–Jacobian product of the weighted error
   * of the predicted clean chunk; needs autodiff, so tfjs only (objective.ts), flow matching only.
   */
  method?: GuideMethod;
  /** pigdm: the clip β on the guidance weight (default 5). */
  beta?: number;
}

/** How guided sampling follows the plan: gradient-free `inpaint` (every runtime) or `pigdm` (tfjs, flow matching). */
export type GuideMethod = "inpaint" | "pigdm";
/** Default clip on ΠGDM's guidance weight (Black et al. 2025 clip it at β; lerobot's RTCConfig.max_guidance_weight defaults to 10). */
export const PIGDM_BETA = 5;

/** @throws ScdError when the guide asks for ΠGDM on a runtime without gradients (`where` names it). */
export function requireGradientFree(guide: SampleGuide | undefined, where: string): void {
  if (guide?.method === "pigdm")
    throw new ScdError(`${where}: ΠGDM guidance (rtc guidance "pigdm") needs gradients through the network, which this runtime does not give; use the gradient-free "inpaint" (or the tfjs checkpoint)`, "bad-value");
}

/** The sampling loop: from noise x to a chunk in `steps` calls of denoise(x, level, step) (v for flow, ε for DDPM). */
export function sampleLoop<T>(objective: Objective, steps: number, noise: T, ops: ChunkOps<T>, denoise: (x: T, level: number, step: number) => T, guide?: { target: T; weights: T }): T {
  let x = noise;
  // pull x toward the target noised to the level just reached: a (signal) · target + b (noise) · the initial noise
  const pull = (a: number, b: number) => {
    if (guide) x = ops.add(x, ops.mulEl(ops.sub(ops.add(ops.mul(guide.target, a), ops.mul(noise, b)), x), guide.weights));
  };
  if (objective === "flow") {
    const s = flowSigmas(steps);
    for (let i = 0; i < steps; i++) {
      x = ops.add(x, ops.mul(denoise(x, s[i], i), s[i + 1] - s[i])); // dx/dσ = v
      pull(1 - s[i + 1], s[i + 1]);
    }
  } else {
    const ts = ddimTimesteps(steps);
    for (let i = 0; i < ts.length; i++) {
      const ab = ABAR[ts[i]], abNext = i + 1 < ts.length ? ABAR[ts[i + 1]] : 1;
      const eps = denoise(x, noiseLevelDdpm(ts[i]), i);
      const x0 = ops.clip(ops.div(ops.sub(x, ops.mul(eps, Math.sqrt(1 - ab))), Math.sqrt(ab)));
      x = ops.add(ops.mul(x0, Math.sqrt(abNext)), ops.mul(eps, Math.sqrt(1 - abNext)));
      pull(Math.sqrt(abNext), Math.sqrt(1 - abNext));
    }
  }
  return ops.clip(x);
}

/** The loop's arithmetic on a network's Ops: traced into ONNX, the whole K-step loop becomes one graph. */
export function opsChunkOps<T>(o: Ops<T>): ChunkOps<T> {
  return { add: (a, b) => o.add(a, b), sub: (a, b) => o.sub(a, b), mul: (a, k) => o.mul(a, k), div: (a, k) => o.mul(a, 1 / k), clip: (a) => o.clip(a, -1, 1), mulEl: (a, b) => o.mul(a, b) };
}

/** Float32 element-wise ops (results rounded to float32 like the tensors'). */
export const ARRAY_OPS: ChunkOps<Float32Array> = {
  add: (a, b) => a.map((v, i) => v + b[i]),
  sub: (a, b) => a.map((v, i) => v - b[i]),
  mul: (a, k) => a.map((v) => v * k),
  div: (a, k) => a.map((v) => v / k),
  clip: (a) => a.map((v) => (Number.isFinite(v) ? Math.min(1, Math.max(-1, v)) : NaN)), // as clipFinite
  mulEl: (a, b) => a.map((v, i) => v * b[i]),
};

/** A guide's target and weights repeated to `size` values (the batch), or undefined. */
export function tileGuide(g: SampleGuide | undefined, size: number): { target: Float32Array; weights: Float32Array } | undefined {
  if (!g) return undefined;
  if (size % g.target.length || g.target.length !== g.weights.length) throw new Error(`guide of ${g.target.length} values does not tile a sample of ${size}`);
  const tile = (a: Float32Array) => Float32Array.from({ length: size }, (_, i) => a[i % a.length]);
  return { target: tile(g.target), weights: tile(g.weights) };
}

/** The same loop on plain arrays: the noise is drawn from rng exactly as sampleChunks draws it. */
export function sampleChunksArray(objective: Objective, steps: number, size: number, rng: Rng, denoise: (x: Float32Array, level: number, step: number) => Float32Array, guide?: SampleGuide): Float32Array {
  requireGradientFree(guide, "ONNX Runtime sampling");
  return sampleLoop(objective, steps, Float32Array.from(rng.normals(size)), ARRAY_OPS, denoise, tileGuide(guide, size));
}

/** The noise levels the sampler will visit, in order (models precompute their conditioning from them). */
export function samplerLevels(objective: Objective, steps: number): number[] {
  return objective === "flow" ? flowSigmas(steps).slice(0, steps) : ddimTimesteps(steps).map((t) => noiseLevelDdpm(t));
}
