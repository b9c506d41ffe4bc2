/**
 * Pre-LN transformer pieces shared by every policy: multi-head attention with an optional KV cache and an
 * additive mask, an MLP, and a block. Reads top to bottom; shapes in the comments.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";
import { alibiSlopes } from "./alibi.ts";
import { Module, Linear, LayerNorm, gelu } from "./module.ts";
import { fastPaths } from "../backend/fast-paths.ts";

export { alibiSlopes };

export interface KV {
  k: tf.Tensor; // [B, H, S, dh]
  v: tf.Tensor; // [B, H, S, dh]
}

export class Attention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly dh: number;
  constructor(rng: Rng, readonly d: number, readonly heads: number, residualScale = 1) {
    super();
    if (d % heads !== 0) throw new Error(`Attention: d=${d} is not divisible by heads=${heads}`);
    this.dh = d / heads;
    this.qkv = this.child("qkv", new Linear(rng, d, 3 * d));
    this.proj = this.child("proj", new Linear(rng, d, d, { scale: residualScale }));
  }


  /** Block i (0 = q, 1 = k, 2 = v) of the qkv projection, split into heads: [B, T, D] → [B, H, T, dh]. */
  private headProj(x: tf.Tensor, i: number): tf.Tensor {
    const [B, T] = x.shape;
    const w = this.qkv.w.slice([0, i * this.d], [this.d, this.d]);
    const b = this.qkv.b!.slice([i * this.d], [this.d]);
    const y = tf.fused.matMul({ a: x.reshape([-1, this.d]), b: w, bias: b }); // [B·T, D]
    return y.reshape([B, T, this.heads, this.dh]).transpose([0, 2, 1, 3]);
  }

  /**
   * x: [B, T, D]; mask: additive [T, S] (0 or -1e9) where S = past + T, or null for full attention;
   * past: cached keys/values of earlier positions. Returns the output and this call's keys/values (past included).
   */
  forward(x: tf.Tensor, mask: tf.Tensor | null, past: KV | null = null): { y: tf.Tensor; kv: KV } {
    const [B, T] = x.shape;
    // fast path: q, k, v from column blocks of the qkv weight, each split into heads by a rank-4 transpose. The
    // stock path's rank-5 transpose runs 100-200x slower on wasm, and splitting activations (SplitV/Unpack)
    // copies the whole input per output; slicing the [D, 3D] weight is cheap. Same function.
    const [q, k0, v0] = fastPaths.headSplit
      ? [0, 1, 2].map((i) => this.headProj(x, i)) // 3 x [B, H, T, dh]
      : tf.unstack(this.qkv.forward(x).reshape([B, T, 3, this.heads, this.dh]).transpose([2, 0, 3, 1, 4]));
    let k = k0, v = v0;
    if (past) {
      k = tf.concat([past.k, k], 2); // [B, H, S, dh]
      v = tf.concat([past.v, v], 2);
    }
    let att = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(this.dh)); // [B, H, T, S]
    if (mask) att = att.add(mask);
    const y = tf.matMul(tf.softmax(att, -1), v) // [B, H, T, dh]
      .transpose([0, 2, 1, 3]).reshape([B, T, this.d]); // [B, T, D]
    return { y: this.proj.forward(y), kv: { k, v } };
  }
}

export class MLP extends Module {
  readonly fc: Linear;
  readonly out: Linear;
  constructor(rng: Rng, d: number, hidden: number, residualScale = 1) {
    super();
    this.fc = this.child("fc", new Linear(rng, d, hidden));
    this.out = this.child("out", new Linear(rng, hidden, d, { scale: residualScale }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.out.forward(gelu(this.fc.forward(x)));
  }
}

/** Pre-LN block: x + attn(ln(x)), then x + mlp(ln(x)). */
export class Block extends Module {
  readonly ln1: LayerNorm;
  readonly attn: Attention;
  readonly ln2: LayerNorm;
  readonly mlp: MLP;
  constructor(rng: Rng, d: number, heads: number, mlpRatio = 4, nLayers = 1) {
    super();
    const rs = 1 / Math.sqrt(2 * nLayers); // GPT-2 style residual scaling keeps deep stacks stable
    this.ln1 = this.child("ln1", new LayerNorm(d));
    this.attn = this.child("attn", new Attention(rng, d, heads, rs));
    this.ln2 = this.child("ln2", new LayerNorm(d));
    this.mlp = this.child("mlp", new MLP(rng, d, d * mlpRatio, rs));
  }
  forward(x: tf.Tensor, mask: tf.Tensor | null, past: KV | null = null): { y: tf.Tensor; kv: KV } {
    const a = this.attn.forward(this.ln1.forward(x), mask, past);
    const h = x.add(a.y); // [B, T, D]
    return { y: h.add(this.mlp.forward(this.ln2.forward(h))), kv: a.kv };
  }
}

/** Additive causal mask [T, past+T]: position i sees every past position and positions <= i of this call. */
export function causalMask(T: number, past = 0, blockSize = 1): tf.Tensor {
  const S = past + T;
  const m = new Float32Array(T * S);
  for (let i = 0; i < T; i++) {
    const frameI = Math.floor((past + i) / blockSize);
    for (let j = 0; j < S; j++) if (Math.floor(j / blockSize) > frameI) m[i * S + j] = -1e9;
  }
  return tf.tensor(m, [T, S]);
}

/**
 * Additive attention bias [1, H, Tq, Tk] for queries at positions qPos over keys at kPos: −slope·(q − k) for
 * keys with q − band < k ≤ q, −1e9 otherwise (future keys, or further back than the band).
 */
export function alibiMask(heads: number, qPos: number[], kPos: number[], band: number): tf.Tensor {
  const slopes = alibiSlopes(heads);
  const Tq = qPos.length, Tk = kPos.length;
  const m = new Float32Array(heads * Tq * Tk);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < Tq; i++)
      for (let j = 0; j < Tk; j++) {
        const d = qPos[i] - kPos[j];
        m[(h * Tq + i) * Tk + j] = d >= 0 && d < band ? -slopes[h] * d : -1e9;
      }
  return tf.tensor(m, [1, heads, Tq, Tk]);
}

/** Sinusoidal embedding of noise levels in [0, 1] (scaled by 1000 like diffusion timesteps): [N, dim]. */
export function levelEmbedding(levels: ArrayLike<number>, dim: number): tf.Tensor {
  const half = dim / 2, out = new Float32Array(levels.length * dim);
  for (let n = 0; n < levels.length; n++)
    for (let i = 0; i < half; i++) {
      const f = Math.exp((-Math.log(10000) * i) / half) * levels[n] * 1000;
      out[n * dim + i] = Math.sin(f);
      out[n * dim + half + i] = Math.cos(f);
    }
  return tf.tensor(out, [levels.length, dim]);
}
