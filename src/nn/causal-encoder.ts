/**
 * A causal transformer over frames (one token per control step) with ALiBi sliding-window attention over `band`
 * frames and a KV cache, so each new frame costs one incremental pass. Training runs whole windows at once with
 * the same banded mask, which makes the cached incremental pass equal to the full-sequence pass.
 */
import * as tf from "@tensorflow/tfjs";
import { Module, Linear, LayerNorm } from "./module.ts";
import { Block, alibiMask, type KV } from "./transformer.ts";
import { Rng } from "../util/rng.ts";

/** Causal frame encoder with a sliding-window KV cache. */
export class CausalEncoder extends Module {
  readonly inProj: Linear;
  readonly blocks: Block[];
  readonly lnF: LayerNorm;
  private cache: (KV | null)[] = [];
  private pos = 0;
  /** cacheSize: keys kept per layer after a step — band−1 for the next frame's query (SCD), or band when other
   * tokens at the current position must also see the whole window (the entangled baseline's action tokens). */
  constructor(rng: Rng, frameDim: number, readonly d: number, layers: number, readonly heads: number, mlpRatio: number, readonly band: number, readonly cacheSize = band - 1) {
    super();
    this.inProj = this.child("in", new Linear(rng, frameDim, d));
    this.blocks = Array.from({ length: layers }, (_, i) => this.child(`block${i}`, new Block(rng, d, heads, mlpRatio, layers)));
    this.lnF = this.child("lnF", new LayerNorm(d));
  }

  /** Teacher-forced pass over windows: frames [B, L, F], keyPad [B, L] (1 = padding) → [B, L, d]. */
  forward(frames: tf.Tensor, keyPad: tf.Tensor): tf.Tensor {
    const L = frames.shape[1]!;
    const pos = [...Array(L).keys()];
    const mask = alibiMask(this.heads, pos, pos, this.band).add(keyPad.mul(-1e9).reshape([-1, 1, 1, L])); // [B, H, L, L]
    let h = this.inProj.forward(frames); // [B, L, d]
    for (const b of this.blocks) h = b.forward(h, mask).y;
    return this.lnF.forward(h);
  }

  resetCache(): void {
    tf.dispose(this.cache.flatMap((c) => (c ? [c.k, c.v] : [])));
    this.cache = this.blocks.map(() => null);
    this.pos = 0;
  }

  /** Position of the last frame observed. */
  get position(): number {
    return this.pos - 1;
  }

  /** Cached keys/values of layer i (positions position−S+1 … position). */
  cached(i: number): KV | null {
    return this.cache[i] ?? null;
  }

  /** One new frame [B, F] → its context [B, d]; keeps the last `cacheSize` keys/values per layer. */
  step(frame: tf.Tensor): tf.Tensor {
    // the new query sees at most band keys: itself and band−1 cached ones
    const cached = this.cache[0] ? this.cache[0].k.shape[2]! : 0;
    const past = Math.min(cached, this.band - 1);
    const trim = (kv: KV | null): KV | null => (kv && past < cached ? { k: kv.k.slice([0, 0, cached - past, 0], [-1, -1, past, -1]), v: kv.v.slice([0, 0, cached - past, 0], [-1, -1, past, -1]) } : kv);
    const kPos = Array.from({ length: past + 1 }, (_, j) => this.pos - past + j);
    const mask = alibiMask(this.heads, [this.pos], kPos, this.band); // [1, H, 1, past+1]
    let h = this.inProj.forward(frame.expandDims(1)); // [B, 1, d]
    const next: KV[] = [];
    this.blocks.forEach((b, i) => {
      const r = b.forward(h, mask, trim(this.cache[i]));
      h = r.y;
      const keep = Math.min(this.cacheSize, r.kv.k.shape[2]!);
      const S = r.kv.k.shape[2]!;
      next.push({ k: tf.keep(r.kv.k.slice([0, 0, S - keep, 0], [-1, -1, keep, -1])), v: tf.keep(r.kv.v.slice([0, 0, S - keep, 0], [-1, -1, keep, -1])) });
    });
    tf.dispose(this.cache.flatMap((c) => (c ? [c.k, c.v] : [])));
    this.cache = next.map((kv) => (kv.k.shape[2] ? kv : (tf.dispose([kv.k, kv.v]), null)));
    this.pos++;
    return this.lnF.forward(h).squeeze([1]); // [B, d]
  }

  disposeCache(): void {
    tf.dispose(this.cache.flatMap((c) => (c ? [c.k, c.v] : [])));
    this.cache = [];
  }
}

