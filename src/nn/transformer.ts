/**
 * Pre-LN transformer pieces shared by every policy: multi-head attention with an optional KV cache and an
 * additive bias, an MLP, and a block; written against Ops (ops.ts), so they train on tfjs and trace to ONNX.
 * Reads top to bottom; shapes in the comments.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";
import { alibiSlopes } from "./alibi.ts";
import { Module, Linear, LayerNorm, gelu } from "./module.ts";
import type { Ops, Levels } from "./ops.ts";
import { tfOps } from "./tf-ops.ts";

export { alibiSlopes };

export interface KV<T = tf.Tensor> {
  k: T; // [B, H, S, dh]
  v: T; // [B, H, S, dh]
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

  /**
   * x: [B, T, D]; bias: additive scores [.., T, S] (0 or −1e9, ALiBi) where S = past + T, or null for full
   * attention; past: cached keys/values of earlier positions. Returns the output and this call's keys/values
   * (past included).
   */
  apply<T>(o: Ops<T>, x: T, bias: T | null, past: KV<T> | null = null): { y: T; kv: KV<T> } {
    const [q, k0, v0] = o.headSplit(x, o.param(this.qkv.w), o.param(this.qkv.b!), 3, this.heads); // 3 × [B, H, T, dh]
    const k = past ? o.concat([past.k, k0], 2) : k0; // [B, H, S, dh]
    const v = past ? o.concat([past.v, v0], 2) : v0;
    let att = o.mul(o.matmul(q, k, true), 1 / Math.sqrt(this.dh)); // [B, H, T, S]
    if (bias) att = o.add(att, bias);
    const y = o.reshape(o.transpose(o.matmul(o.softmax(att), v), [0, 2, 1, 3]), [0, 0, this.d]); // [B, T, D]
    return { y: this.proj.apply(o, y), kv: { k, v } };
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
  apply<T>(o: Ops<T>, x: T): T {
    return this.out.apply(o, gelu(o, this.fc.apply(o, x)));
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
  apply<T>(o: Ops<T>, x: T, bias: T | null, past: KV<T> | null = null): { y: T; kv: KV<T> } {
    const a = this.attn.apply(o, this.ln1.apply(o, x), bias, past);
    const h = o.add(x, a.y); // [B, T, D]
    return { y: o.add(h, this.mlp.apply(o, this.ln2.apply(o, h))), kv: a.kv };
  }
  /** The same on tfjs tensors. */
  forward(x: tf.Tensor, mask: tf.Tensor | null, past: KV | null = null): { y: tf.Tensor; kv: KV } {
    return this.apply(tfOps, x, mask, past);
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
export function alibiMask<T>(o: Ops<T>, heads: number, qPos: number[], kPos: number[], band: number): T {
  const slopes = alibiSlopes(heads);
  const Tq = qPos.length, Tk = kPos.length;
  const m = new Float32Array(heads * Tq * Tk);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < Tq; i++)
      for (let j = 0; j < Tk; j++) {
        const d = qPos[i] - kPos[j];
        m[(h * Tq + i) * Tk + j] = d >= 0 && d < band ? -slopes[h] * d : -1e9;
      }
  return o.constant(m, [1, heads, Tq, Tk]);
}

/** Sinusoidal embedding of noise levels in [0, 1], scaled by 1000 like diffusion timesteps: [N, dim]. */
export function levelEmbedding<T>(o: Ops<T>, levels: Levels<T>, dim: number): T {
  const half = dim / 2;
  return o.sinusoid(levels, Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half)), 1000);
}
