/**
 * Entangled causal diffusion: frames and noisy chunk tokens share every layer. Training packs a window's frames
 * and G = positions × draws groups of H chunk tokens into one sequence; group g (at frame position j_g) sees the
 * frames j_g−band+1 … j_g and its own tokens, frames see only earlier frames. At run time the frames' keys and
 * values are cached, but every denoising step still runs all layers on the H chunk tokens. The inference pieces (the
 * trunk's `step`, `denoise`) run on any Ops: tfjs here, traced to ONNX by export.ts.
 *   IMAGES (layout.images, config `image`): SCD's image path (src/nn/image-encoder.ts FrameImages): one ImageEncoder
 *            per image feature runs once per frame (random crop at training, centre crop at inference) and its dOut
 *            features join the frame vector before the trunk's input projection (trunk.in: frameDim + images·dOut → d).
 *            A frame stays one token, so its keys/values are cached and the denoising steps never rerun the CNN.
 */
import type { SampleGuide } from "../../diffusion/sampler.ts";
import * as tf from "@tensorflow/tfjs";
import { Module, Linear } from "../../nn/module.ts";
import { alibiSlopes, levelEmbedding, type Block, type KV } from "../../nn/transformer.ts";
import { CausalEncoder } from "../../nn/causal-encoder.ts";
import { FrameImages } from "../../nn/image-encoder.ts";
import type { Ops, Levels } from "../../nn/ops.ts";
import { tfOps } from "../../nn/tf-ops.ts";
import { noisyTargets, sampleChunks } from "../../diffusion/objective.ts";
import type { PolicyModel } from "../registry.ts";
import type { FrameLayout, WindowTensors } from "../frames.ts";
import { Rng } from "../../util/rng.ts";
import type { EntangledDiffusionConfig } from "./config.ts";
import type { ScdImageConfig } from "../../nn/image-config.ts";

const LEVEL_DIM = 64;

/** Observer of one block at one denoising step: block index, its input [N, H, d], its additive mask [1, heads, 1, S + H], the block. */
export type BlockHook<T = tf.Tensor> = (block: number, input: T, mask: T, blk: Block) => void;

export class EntangledDiffusionModel extends Module implements PolicyModel {
  readonly trunk: CausalEncoder; // frame in-projection + the shared blocks + final norm
  readonly actIn: Linear;
  readonly chunkPos: tf.Variable;
  readonly time1: Linear;
  readonly time2: Linear;
  readonly out: Linear;
  readonly horizon: number;
  readonly actionDim: number;
  readonly window: number;
  readonly positionsPerWindow: number;
  readonly defaultSteps: number;
  /** The image config in use (config `image`, or its defaults), null without image features. */
  readonly image: ScdImageConfig | null;
  /** The image path: one ImageEncoder per layout image feature (parameters image0.…), [] of them without images. */
  readonly imagePath: FrameImages;
  private readonly slopes: number[];

  /** @throws ScdError when an image feature is smaller than the crop, or the image stages leave no 2 × 2 last map. */
  constructor(readonly cfg: EntangledDiffusionConfig, readonly layout: FrameLayout, seed: number) {
    super();
    const rng = new Rng(seed), d = cfg.dModel, images = layout.images ?? [];
    this.horizon = cfg.horizon;
    this.actionDim = layout.actionDim;
    this.window = cfg.window ?? cfg.history;
    this.positionsPerWindow = cfg.positionsPerWindow;
    this.defaultSteps = cfg.defaultSteps;
    this.slopes = alibiSlopes(cfg.heads);
    // own seeds (as SCD's): the rest of the model initialises as without images
    this.imagePath = new FrameImages(cfg.image, images, seed, (name, e) => this.child(name, e));
    this.image = this.imagePath.cfg;
    // cache band keys: the chunk tokens at the current frame see the whole window
    this.trunk = this.child("trunk", new CausalEncoder(rng, layout.frameDim + this.imagePath.dim, d, cfg.layers, cfg.heads, cfg.mlpRatio, cfg.history, cfg.history));
    this.actIn = this.child("actIn", new Linear(rng, layout.actionDim, d));
    this.chunkPos = this.param("chunkPos", [cfg.horizon, d], rng.normals(cfg.horizon * d, 0.02));
    this.time1 = this.child("time1", new Linear(rng, LEVEL_DIM, d));
    this.time2 = this.child("time2", new Linear(rng, d, d));
    this.out = this.child("out", new Linear(rng, d, layout.actionDim, { scale: 0.1 }));
  }

  lrMult(): number {
    return 1;
  }

  /** Chunk tokens: [N, H, A] noisy actions + chunk position + noise-level embedding (levels [N]) → [N, H, d]. */
  chunkTokens<T>(o: Ops<T>, x: T, levels: Levels<T>): T {
    const temb = o.expandDims(this.time2.apply(o, this.time1.apply(o, levelEmbedding(o, levels, LEVEL_DIM), "relu")), 1); // [N, 1, d]
    return o.add(o.add(this.actIn.apply(o, x), o.param(this.chunkPos)), temb);
  }

  /** Training mask [B, heads, S, S] for S = L + G·H: frames causal+band, groups see their window and themselves. */
  private trainMask(b: WindowTensors, groupPos: Int32Array, G: number): tf.Tensor {
    const L = b.L, H = this.horizon, S = L + G * H, nh = this.cfg.heads, band = this.cfg.history;
    const m = new Float32Array(b.B * nh * S * S).fill(-1e9);
    const posOf = (b_: number, s: number) => (s < L ? s : groupPos[b_ * G + Math.floor((s - L) / H)]);
    for (let bi = 0; bi < b.B; bi++)
      for (let h = 0; h < nh; h++)
        for (let q = 0; q < S; q++) {
          const qp = posOf(bi, q), row = ((bi * nh + h) * S + q) * S;
          for (let k = 0; k < L; k++) {
            const dist = qp - k;
            if (dist >= 0 && dist < band && b.keyPad[bi * L + k] === 0) m[row + k] = -this.slopes[h] * dist;
          }
          if (q >= L) {
            const g0 = L + Math.floor((q - L) / H) * H;
            for (let k = g0; k < g0 + H; k++) m[row + k] = 0;
          }
        }
    return tf.tensor(m, [b.B, nh, S, S]);
  }

  loss(b: WindowTensors, rng: Rng): tf.Scalar {
    const H = this.horizon, A = this.actionDim, P = b.posIdx.length / b.B, M = this.cfg.draws, G = P * M;
    this.imagePath.check(b.images, "EntangledDiffusionModel.loss");
    return tf.tidy(() => {
      // groups: position p with draw m at index p·M + m; targets repeated per draw
      const groupPos = new Int32Array(b.B * G);
      const x0 = new Float32Array(b.B * G * H * A);
      for (let bi = 0; bi < b.B; bi++)
        for (let p = 0; p < P; p++)
          for (let mm = 0; mm < M; mm++) {
            const g = bi * G + p * M + mm;
            groupPos[g] = b.posIdx[bi * P + p] - bi * b.L;
            x0.set(b.targets.subarray((bi * P + p) * H * A, (bi * P + p + 1) * H * A), g * H * A);
          }
      const N = b.B * G;
      const clean = tf.tensor(x0, [N, H, A]);
      const { xt, target, levels } = noisyTargets(clean, rng, this.cfg.objective);
      const o = tfOps;
      // images [B·L, H, W, 3] → a random crop each (as SCD) → features appended to the frame → [B, L, F + images·dOut]
      const crops = this.imagePath.trainCrops(b.images, b.B * b.L, rng);
      const input = this.imagePath.append(o, tf.tensor(b.frames, [b.B, b.L, b.frames.length / (b.B * b.L)]), crops, [b.B, b.L]);
      const frames = this.trunk.inProj.apply(o, input); // [B, L, d]
      const chunks = this.chunkTokens(o, xt, levels).reshape([b.B, G * H, this.cfg.dModel]); // [B, G·H, d]
      let h = tf.concat([frames, chunks], 1); // [B, S, d]
      const mask = this.trainMask(b, groupPos, G);
      // a block's intermediates go when it ends (backprop keeps its own saved copies): with tfjs's copying Identity
      // (the benchmark's stock step) the whole forward pass otherwise lived twice, over the 4 GB wasm heap at batch 64
      for (const blk of this.trunk.blocks) h = tf.tidy(() => blk.apply(o, h, mask).y);
      const y = this.out.apply(o, this.trunk.lnF.apply(o, h.slice([0, b.L, 0], [-1, -1, -1]))).reshape([N, H, A]);
      return y.sub(target).square().mean() as tf.Scalar;
    });
  }

  reset(): void {
    this.trunk.resetCache();
  }

  /** One frame [B, F] and its images (normalized [B, H, W, 3] per layout image feature, centre-cropped here) → the trunk's cached step. */
  observe(frame: tf.Tensor, images?: tf.Tensor[]): void {
    this.imagePath.check(images, "EntangledDiffusionModel.observe", frame.shape[0]);
    const x = this.imagePath.frameInput(frame, images); // [B, F + images·dOut]
    try {
      this.trunk.observe(x).dispose();
    } finally {
      if (x !== frame) x.dispose();
    }
  }

  /**
   * One denoising evaluation: noisy chunk x [N, H, A] at `levels` over the frames' cached keys/values of every
   * layer → prediction [N, H, A]. All layers run on the chunk tokens, which see the cached frames at their ALiBi
   * distances from the current frame and each other. `onBlock` sees each block's input [N, H, d] and additive mask
   * (the probe of experiments/claim/probe.ts).
   */
  denoise<T>(o: Ops<T>, x: T, levels: Levels<T>, cache: KV<T>[], onBlock?: BlockHook<T>): T {
    const nh = this.cfg.heads, H = this.horizon;
    const bias = o.concat([o.alibi(cache[0].k, 2, this.slopes, 0), o.constant(new Float32Array(nh * H), [1, nh, 1, H])], 3); // [1, heads, 1, S + H]
    let h = this.chunkTokens(o, x, levels);
    this.trunk.blocks.forEach((blk, i) => {
      onBlock?.(i, h, bias, blk);
      h = blk.apply(o, h, bias, cache[i]).y;
    });
    return this.out.apply(o, this.trunk.lnF.apply(o, h));
  }

  /** K denoising steps from pure noise; `onBlock` (optional) observes every block at every step. */
  sample(steps: number, rng: Rng, guide?: SampleGuide, onBlock?: BlockHook): tf.Tensor {
    if (!this.trunk.cached(0)) throw new Error("EntangledDiffusionModel.sample before observe()");
    const cache = this.trunk.blocks.map((_, i) => this.trunk.cached(i)!);
    const N = cache[0].k.shape[0]!, H = this.horizon, A = this.actionDim;
    return tf.tidy(() => sampleChunks(this.cfg.objective, steps, [N, H, A], rng, (x, levels) => this.denoise(tfOps, x, levels, cache, onBlock), guide));
  }

  dispose(): void {
    this.trunk.disposeCache();
    super.dispose();
  }
}
