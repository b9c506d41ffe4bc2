/**
 * Real-time chunking's guided sampling with gradients (Black, Galliker & Levine 2025, "Real-Time Execution of
 * Action Chunking Flow Policies", eqs. 2–5, after ΠGDM: Song et al. 2023), on tfjs, for flow matching.
 *
 * In this package's convention (x_σ = (1 − σ)·x₀ + σ·ε, v = ε − x₀, σ from 1 to 0; the paper's τ = 1 − σ and its
 * velocity is −v), at every Euler step:
 *   x̂₀ = x − σ·v(x)                                     the predicted clean chunk
 *   L  = ½ Σ W ∘ (Y − x̂₀)²                               W: the soft mask, Y: the plan to continue
 *   v' = v + c·∇ₓL,  c = min(β, (1 − τ) / (τ·r²)),  r² = (1 − τ)² / (τ² + (1 − τ)²)
 *   x ← x + (σ_next − σ)·v'
 * ∇ₓL = −(W ∘ (Y − x̂₀))ᵀ ∂x̂₀/∂x is the paper's vector–Jacobian product with the sign of our velocity; c is
 * infinite at pure noise (τ = 0), hence the clip β. One forward and one backward pass of the denoiser per step.
 */
import * as tf from "@tensorflow/tfjs";
import { flowSigmas } from "./schedules.ts";

/** ΠGDM's guidance weight at noise level σ (τ = 1 − σ), clipped at β. */
export function pigdmWeight(sigma: number, beta: number): number {
  const tau = 1 - sigma;
  if (tau <= 0) return beta;
  const r2 = (1 - tau) ** 2 / (tau ** 2 + (1 - tau) ** 2);
  return Math.min(beta, (1 - tau) / (tau * r2));
}

/**
 * Guided Euler sampling: `noise` [N, H, A] → chunk [N, H, A] (unclipped; the caller clips), with `target` and
 * `weights` [N, H, A] (normalized units; weights in [0, 1]). `denoise(x, σ, step)` returns v [N, H, A] and must be
 * differentiable in x (every tfjs kernel it runs needs a gradient). Call inside a tidy.
 */
export function pigdmSample(steps: number, noise: tf.Tensor, target: tf.Tensor, weights: tf.Tensor, beta: number, denoise: (x: tf.Tensor, sigma: number, step: number) => tf.Tensor): tf.Tensor {
  const s = flowSigmas(steps);
  let x = noise;
  for (let i = 0; i < steps; i++) {
    const sigma = s[i];
    let v: tf.Tensor | null = null;
    const grad = tf.grad((xx: tf.Tensor) => {
      const vv = denoise(xx, sigma, i);
      v = tf.keep(vv); // the velocity itself, kept past the gradient's scope (disposed below)
      const x0 = xx.sub(vv.mul(sigma));
      return target.sub(x0).square().mul(weights).sum().mul(0.5);
    })(x);
    const vel = v as unknown as tf.Tensor;
    x = x.add(vel.add(grad.mul(pigdmWeight(sigma, beta))).mul(s[i + 1] - sigma));
    vel.dispose();
  }
  return x;
}
