/**
 * A residual-MLP denoiser over the whole flattened chunk, FiLM-conditioned on the encoder's context and the noise
 * level (conditioning as in Diffusion Policy's ConditionalResidualBlock1D: per-block scale and shift from the
 * condition vector; Perez et al. 2018). One token per chunk instead of H+1, so on wasm it costs a few [N, w]
 * matmuls per denoising step, where the transformer decoder pays attention and ~20 elementwise ops on H+1 tokens.
 */
import * as tf from "@tensorflow/tfjs";
import { Module, Linear, LayerNorm, gelu } from "../../nn/module.ts";
import { levelEmbedding } from "../../nn/transformer.ts";
import { Rng } from "../../util/rng.ts";

const LEVEL_DIM = 64;

class FilmBlock extends Module {
  readonly ln: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(rng: Rng, w: number, residualScale: number) {
    super();
    this.ln = this.child("ln", new LayerNorm(w));
    this.fc1 = this.child("fc1", new Linear(rng, w, 2 * w));
    this.fc2 = this.child("fc2", new Linear(rng, 2 * w, w, { scale: residualScale }));
  }
  /** h [N, w] + fc2(gelu(fc1(ln(h)) · (1 + scale) + shift)); scale, shift [N, 2w]. */
  forward(h: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor): tf.Tensor {
    const z = this.fc1.forward(this.ln.forward(h)).mul(scale.add(1)).add(shift);
    return h.add(this.fc2.forward(gelu(z)));
  }
}

/** Conditioning of one denoising evaluation: per-block FiLM [scale, shift], each [N, 2w]. */
export type MlpCond = { film: [tf.Tensor, tf.Tensor][] };

export class MlpDecoder extends Module {
  readonly ctxProj: Linear;
  readonly time1: Linear;
  readonly time2: Linear;
  readonly films: Linear[];
  readonly inProj: Linear;
  readonly blocks: FilmBlock[];
  readonly ln: LayerNorm;
  readonly out: Linear;
  constructor(rng: Rng, dCtx: number, readonly w: number, layers: number, readonly H: number, readonly A: number) {
    super();
    this.ctxProj = this.child("ctx", new Linear(rng, dCtx, w));
    this.time1 = this.child("time1", new Linear(rng, LEVEL_DIM, w));
    this.time2 = this.child("time2", new Linear(rng, w, w));
    this.films = Array.from({ length: layers }, (_, i) => this.child(`film${i}`, new Linear(rng, w, 4 * w, { scale: 0.1 })));
    this.inProj = this.child("in", new Linear(rng, H * A, w));
    this.blocks = Array.from({ length: layers }, (_, i) => this.child(`block${i}`, new FilmBlock(rng, w, 1 / Math.sqrt(2 * layers))));
    this.ln = this.child("ln", new LayerNorm(w));
    this.out = this.child("out", new Linear(rng, w, H * A, { scale: 0.1 }));
  }

  /** ctx [N, dCtx], levels [N] → the x-independent part, computed once per (context, level). */
  condition(ctx: tf.Tensor, levels: ArrayLike<number>): MlpCond {
    const temb = this.time2.forward(this.time1.forward(levelEmbedding(levels, LEVEL_DIM), "relu"));
    const c = gelu(this.ctxProj.forward(ctx).add(temb)); // [N, w]
    return { film: this.films.map((f) => tf.split(f.forward(c), 2, 1) as [tf.Tensor, tf.Tensor]) };
  }

  /** Split a condition computed for S·N rows into S conditions of N rows (sampling precomputes all K steps). */
  splitSteps(cond: MlpCond, S: number): MlpCond[] {
    const parts = cond.film.map(([a, b]) => [tf.split(a, S, 0), tf.split(b, S, 0)]);
    return Array.from({ length: S }, (_, s) => ({ film: parts.map(([a, b]) => [a[s], b[s]] as [tf.Tensor, tf.Tensor]) }));
  }

  /** One denoising evaluation: noisy chunk x [N, H, A] → prediction [N, H, A]. */
  denoise(cond: MlpCond, x: tf.Tensor): tf.Tensor {
    const N = x.shape[0]!;
    let h = this.inProj.forward(x.reshape([N, this.H * this.A])); // [N, w]
    this.blocks.forEach((b, i) => (h = b.forward(h, cond.film[i][0], cond.film[i][1])));
    return this.out.forward(this.ln.forward(h)).reshape([N, this.H, this.A]);
  }
}
