/**
 * Noise schedules as pure functions of numbers (tensors only where the model needs them).
 * Flow matching (SCD's default): x_σ = (1 − σ)·x + σ·ε, target v = ε − x, σ ~ logit-normal, Euler from σ = 1 to 0.
 * DDPM/DDIM (Diffusion Policy's): ε-prediction, squared-cosine betas over 100 training steps, DDIM sampling.
 */
import { Rng } from "../util/rng.ts";

/** The training objective: flow matching (velocity) or DDPM (ε-prediction). */
export type Objective = "flow" | "ddpm";
export const DDPM_TRAIN_STEPS = 100;

/** σ = sigmoid(m + s·n), n ~ N(0, 1): more training on the middle noise levels. */
export function logitNormal(rng: Rng, n: number, m = 0, s = 1): Float32Array {
  return Float32Array.from({ length: n }, () => 1 / (1 + Math.exp(-(m + s * rng.normal()))));
}

/** Euler grid for flow matching: σ_0 = 1 > σ_1 > … > σ_K = 0. */
export function flowSigmas(steps: number): number[] {
  return Array.from({ length: steps + 1 }, (_, i) => 1 - i / steps);
}

/** ᾱ_t for t = 0 … T−1 (squaredcos_cap_v2, as Diffusion Policy). */
export function alphasCumprod(T = DDPM_TRAIN_STEPS): Float64Array {
  const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    const beta = Math.min(1 - f(t + 1) / f(t), 0.999);
    prod *= 1 - beta;
    out[t] = prod;
  }
  return out;
}

/** DDIM timesteps: K of the T training steps, descending (e.g. K = 10: 90, 80, …, 0). */
export function ddimTimesteps(steps: number, T = DDPM_TRAIN_STEPS): number[] {
  const k = Math.max(1, Math.min(steps, T));
  const stride = Math.floor(T / k);
  return Array.from({ length: k }, (_, i) => (k - 1 - i) * stride);
}

/** The noise level fed to the network, in [0, 1]: σ for flow, t / T for DDPM. */
export function noiseLevelDdpm(t: number, T = DDPM_TRAIN_STEPS): number {
  return t / T;
}
