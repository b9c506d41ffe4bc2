/**
 * A residual-MLP denoiser over the whole flattened chunk, FiLM-conditioned on the encoder's context and the noise
 * level (conditioning as in Diffusion Policy's ConditionalResidualBlock1D: per-block scale and shift from the
 * condition vector; Perez et al. 2018). One token per chunk instead of H+1, so on wasm it costs a few [N, w]
 * matmuls per denoising step, where the transformer decoder pays attention and ~20 elementwise ops on H+1 tokens.
 */
import { Module, Linear, LayerNorm, gelu } from "../../nn/module.ts";
import { levelEmbedding } from "../../nn/transformer.ts";
import type { Ops, Levels } from "../../nn/ops.ts";
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
  apply<T>(o: Ops<T>, h: T, scale: T, shift: T): T {
    const z = o.add(o.mul(this.fc1.apply(o, this.ln.apply(o, h)), o.add(scale, 1)), shift);
    return o.add(h, this.fc2.apply(o, gelu(o, z)));
  }
}

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

  /** ctx [N, dCtx], levels [N] → the x-independent part, once per (context, level): per block FiLM scale and shift [N, 2w]. */
  condition<T>(o: Ops<T>, ctx: T, levels: Levels<T>): Record<string, T> {
    const temb = this.time2.apply(o, this.time1.apply(o, levelEmbedding(o, levels, LEVEL_DIM), "relu"));
    const c = gelu(o, o.add(this.ctxProj.apply(o, ctx), temb)); // [N, w]
    const cond: Record<string, T> = {};
    this.films.forEach((f, i) => {
      const y = f.apply(o, c); // [N, 4w] = [scale | shift]
      cond[`film_scale_${i}`] = o.slice(y, 1, 0, 2 * this.w);
      cond[`film_shift_${i}`] = o.slice(y, 1, 2 * this.w, 4 * this.w);
    });
    return cond;
  }

  /** One denoising evaluation: noisy chunk x [N, H, A] → prediction [N, H, A]. */
  denoise<T>(o: Ops<T>, cond: Record<string, T>, x: T): T {
    let h = this.inProj.apply(o, o.reshape(x, [-1, this.H * this.A])); // [N, w]
    this.blocks.forEach((b, i) => (h = b.apply(o, h, cond[`film_scale_${i}`], cond[`film_shift_${i}`])));
    return o.reshape(this.out.apply(o, this.ln.apply(o, h)), [-1, this.H, this.A]);
  }
}
