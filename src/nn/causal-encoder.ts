/**
 * A causal transformer over frames (one token per control step) with ALiBi sliding-window attention over `band`
 * frames and a KV cache, so each new frame costs one incremental pass. Training runs whole windows at once with
 * the same banded mask, which makes the cached incremental pass equal to the full-sequence pass. `step` is the
 * incremental pass on any Ops with the cache as explicit values (the ONNX export traces it); `observe` runs it on
 * tfjs and keeps the cache.
 */
import * as tf from "@tensorflow/tfjs";
import { Module, Linear, LayerNorm } from "./module.ts";
import { Block, alibiMask, alibiSlopes, type KV } from "./transformer.ts";
import type { Ops } from "./ops.ts";
import { tfOps } from "./tf-ops.ts";
import { Rng } from "../util/rng.ts";

/** Causal frame encoder with a sliding-window KV cache. */
export class CausalEncoder extends Module {
  readonly inProj: Linear;
  readonly blocks: Block[];
  readonly lnF: LayerNorm;
  readonly slopes: number[];
  private cache: (KV | null)[] = [];

  /** cacheSize: keys kept per layer after a step — band−1 for the next frame's query (SCD), or band when other
   * tokens at the current position must also see the whole window (the entangled baseline's action tokens). */
  constructor(rng: Rng, frameDim: number, readonly d: number, layers: number, readonly heads: number, mlpRatio: number, readonly band: number, readonly cacheSize = band - 1) {
    super();
    this.inProj = this.child("in", new Linear(rng, frameDim, d));
    this.blocks = Array.from({ length: layers }, (_, i) => this.child(`block${i}`, new Block(rng, d, heads, mlpRatio, layers)));
    this.lnF = this.child("lnF", new LayerNorm(d));
    this.slopes = alibiSlopes(heads);
  }

  /** Teacher-forced pass over windows (tfjs): frames [B, L, F], keyPad [B, L] (1 = padding) → [B, L, d]. */
  forward(frames: tf.Tensor, keyPad: tf.Tensor): tf.Tensor {
    const o = tfOps, L = frames.shape[1]!;
    const pos = [...Array(L).keys()];
    const bias = o.add(alibiMask(o, this.heads, pos, pos, this.band), o.reshape(o.mul(keyPad, -1e9), [-1, 1, 1, L])); // [B, H, L, L]
    let h = this.inProj.apply(o, frames); // [B, L, d]
    for (const b of this.blocks) h = b.apply(o, h, bias).y;
    return this.lnF.apply(o, h);
  }

  /**
   * One new frame [B, F] over the cached keys/values of each layer (null: none yet) → its context [B, d] and the
   * cache to keep (the last `cacheSize` frames per layer, oldest first).
   */
  step<T>(o: Ops<T>, frame: T, past: (KV<T> | null)[]): { context: T; present: KV<T>[] } {
    // the new frame sees itself and at most band − 1 cached frames, at ALiBi distances past … 0
    const seen = past.map((kv) => (kv && this.band > 1 ? { k: o.last(kv.k, 2, this.band - 1), v: o.last(kv.v, 2, this.band - 1) } : null));
    const bias = seen[0] ? o.alibi(seen[0].k, 2, this.slopes, 1) : null; // [1, H, 1, past + 1]; none: one key, distance 0
    let h = o.expandDims(this.inProj.apply(o, frame), 1); // [B, 1, d]
    const present: KV<T>[] = [];
    this.blocks.forEach((b, i) => {
      const r = b.apply(o, h, bias, seen[i]);
      h = r.y;
      present.push({ k: o.last(r.kv.k, 2, this.cacheSize), v: o.last(r.kv.v, 2, this.cacheSize) });
    });
    return { context: o.squeeze(this.lnF.apply(o, h), 1), present };
  }

  /** `step` on tfjs, keeping the cache: one frame [B, F] → its context [B, d]. */
  observe(frame: tf.Tensor): tf.Tensor {
    const [context, ...kv] = tf.tidy(() => {
      const r = this.step(tfOps, frame, this.blocks.map((_, i) => this.cached(i)));
      return [r.context, ...r.present.flatMap((p) => [p.k, p.v])];
    });
    this.disposeCache();
    this.cache = this.blocks.map((_, i) => (kv[2 * i].shape[2] ? { k: kv[2 * i], v: kv[2 * i + 1] } : (tf.dispose([kv[2 * i], kv[2 * i + 1]]), null)));
    return context;
  }

  /** Cached keys/values of layer i (the last cacheSize frames), or null before the first frame. */
  cached(i: number): KV | null {
    return this.cache[i] ?? null;
  }

  resetCache(): void {
    this.disposeCache();
  }

  disposeCache(): void {
    tf.dispose(this.cache.flatMap((c) => (c ? [c.k, c.v] : [])));
    this.cache = [];
  }
}
