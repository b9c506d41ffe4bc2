/**
 * Separable Causal Diffusion for action chunks.
 *   ENCODER: pre-LN causal transformer over frames (one token per control step: observation + previous action),
 *            ALiBi sliding-window attention over `history` frames, KV cache: one incremental pass per frame.
 *   DECODER: small transformer over [context token ; H noisy action tokens], bidirectional, noise-level
 *            conditioned (or, with decoder "mlp", a FiLM residual MLP over the flattened chunk, mlp-decoder.ts);
 *            runs at every denoising step, sees only the current frame's encoder output.
 * Training is teacher-forced: one encoder pass over a window gives contexts at every position; the decoder is
 * trained at several positions and several noise draws per encoder pass. The inference pieces (the encoder's
 * `step`, the decoder's `condition` and `denoise`) run on any Ops: tfjs here, traced to ONNX by export.ts.
 *   IMAGES (layout.images, config `image`): one ImageEncoder per image feature runs once per frame on that frame's
 *            normalized image (random crop at training, centre crop at inference); its dOut features are appended
 *            to the frame vector before the encoder's input projection (inProj: frameDim + images·dOut → d).
 *   AUX (config `auxTarget`, training only): an MLP head [images·dOut → hidden → D] regresses a dataset feature
 *            (layout.aux, e.g. Push-T's block keypoints) from each frame's image features, weight × MSE added to the
 *            chunk loss: a direct gradient for what the camera must locate (cf. auxiliary state prediction in
 *            visuomotor learning, Levine et al. 2016's pose pretraining). Not read at run time, not exported.
 */
import type { SampleGuide } from "../../diffusion/sampler.ts";
import * as tf from "@tensorflow/tfjs";
import { Module, Linear, LayerNorm } from "../../nn/module.ts";
import { Block, levelEmbedding } from "../../nn/transformer.ts";
import { CausalEncoder } from "../../nn/causal-encoder.ts";
import { FrameImages, type ImageEncoder } from "../../nn/image-encoder.ts";
import type { Ops, Levels } from "../../nn/ops.ts";
import { tfOps } from "../../nn/tf-ops.ts";
import { MlpDecoder } from "./mlp-decoder.ts";
import { noisyTargets, sampleChunks, samplerLevels } from "../../diffusion/objective.ts";
import type { PolicyModel } from "../registry.ts";
import type { FrameLayout, WindowTensors } from "../frames.ts";
import { Rng } from "../../util/rng.ts";
import { ScdError } from "../../errors.ts";
import { scdWindow, type ScdConfig, type ScdImageConfig } from "./config.ts";

const LEVEL_DIM = 64;

/**
 * What the SCD model needs of a decoder: the conditioning once per (context, level) — named values, the names the
 * ONNX graphs pass between decoder_condition and decoder_denoise — then one denoising call per step.
 */
export interface Denoiser {
  condition<T>(o: Ops<T>, ctx: T, levels: Levels<T>): Record<string, T>;
  denoise<T>(o: Ops<T>, cond: Record<string, T>, x: T): T;
}

/** The light denoiser: [ctx ; H noisy actions] → per-action prediction (velocity or ε). */
export class ChunkDecoder extends Module implements Denoiser {
  readonly ctxProj: Linear;
  readonly actIn: Linear;
  readonly pos: tf.Variable;
  readonly time1: Linear;
  readonly time2: Linear;
  readonly blocks: Block[];
  readonly ln: LayerNorm;
  readonly out: Linear;
  constructor(rng: Rng, dCtx: number, readonly d: number, layers: number, heads: number, mlpRatio: number, readonly H: number, readonly A: number) {
    super();
    this.ctxProj = this.child("ctx", new Linear(rng, dCtx, d));
    this.actIn = this.child("actIn", new Linear(rng, A, d));
    this.pos = this.param("pos", [H + 1, d], rng.normals((H + 1) * d, 0.02));
    this.time1 = this.child("time1", new Linear(rng, LEVEL_DIM, d));
    this.time2 = this.child("time2", new Linear(rng, d, d));
    this.blocks = Array.from({ length: layers }, (_, i) => this.child(`block${i}`, new Block(rng, d, heads, mlpRatio, layers)));
    this.ln = this.child("ln", new LayerNorm(d));
    this.out = this.child("out", new Linear(rng, d, A, { scale: 0.1 }));
  }

  /**
   * Everything that depends on the context and the noise level but not on x, so sampling computes it once per
   * chunk: the context token (+ its position + level embedding) [N, 1, d] and the action tokens' bias [N, H, d].
   */
  condition<T>(o: Ops<T>, ctx: T, levels: Levels<T>): Record<string, T> {
    const temb = o.expandDims(this.time2.apply(o, this.time1.apply(o, levelEmbedding(o, levels, LEVEL_DIM), "relu")), 1); // [N, 1, d]
    const pos = o.param(this.pos), p0 = o.slice(pos, 0, 0, 1), pa = o.slice(pos, 0, 1, this.H + 1); // [1, d], [H, d]
    return { context_token: o.add(o.add(o.expandDims(this.ctxProj.apply(o, ctx), 1), p0), temb), action_bias: o.add(pa, temb) };
  }

  /** One denoising evaluation: [ctx token ; H noisy action tokens] → per-action prediction [N, H, A]. */
  denoise<T>(o: Ops<T>, cond: Record<string, T>, x: T): T {
    let h = o.concat([cond.context_token, o.add(this.actIn.apply(o, x), cond.action_bias)], 1); // [N, H+1, d]
    for (const b of this.blocks) h = b.apply(o, h, null).y;
    return this.out.apply(o, o.slice(this.ln.apply(o, h), 1, 1, this.H + 1)); // [N, H, A]
  }
}

/** A condition computed for S·N rows (tfjs) → S conditions of N rows (sampling precomputes all K steps at once). */
function splitSteps(cond: Record<string, tf.Tensor>, S: number): Record<string, tf.Tensor>[] {
  const parts = Object.entries(cond).map(([k, v]) => [k, tf.split(v, S, 0)] as const);
  return Array.from({ length: S }, (_, s) => Object.fromEntries(parts.map(([k, p]) => [k, p[s]])));
}

export class ScdModel extends Module implements PolicyModel {
  readonly encoder: CausalEncoder;
  readonly decoder: ChunkDecoder | MlpDecoder;
  /** One per layout image feature (parameters image0.…, image1.…); [] without images. */
  readonly imageEncoders: ImageEncoder[];
  /** The image config in use (config `image`, or its defaults), null without image features. */
  readonly image: ScdImageConfig | null;
  readonly horizon: number;
  readonly actionDim: number;
  readonly window: number;
  readonly positionsPerWindow: number;
  readonly defaultSteps: number;
  /** The image path (src/nn/image-encoder.ts FrameImages): encoders, crops, features appended to the frame. */
  readonly imagePath: FrameImages;
  /** The training-only aux head (config `auxTarget` with images and layout.aux), else null. */
  readonly auxHead: { l1: Linear; l2: Linear } | null;
  private ctx: tf.Tensor | null = null;
  private parts: { chunk: number; aux: number } | null = null;

  /**
   * @throws ScdError when an image feature is smaller than the crop, or a stage count leaves no 2 × 2 last map; when
   * config `auxTarget` is set without image features.
   */
  constructor(readonly cfg: ScdConfig, readonly layout: FrameLayout, seed: number) {
    super();
    const rng = new Rng(seed);
    const images = layout.images ?? [];
    this.horizon = cfg.horizon;
    this.actionDim = layout.actionDim;
    const w = scdWindow(cfg, images.length > 0);
    this.window = w.window;
    this.positionsPerWindow = w.positions;
    this.defaultSteps = cfg.defaultSteps;
    // own seeds: the low-dimensional model's initialisation does not depend on whether images are present
    this.imagePath = new FrameImages(cfg.image, images, seed, (name, e) => this.child(name, e));
    this.image = this.imagePath.cfg;
    this.imageEncoders = this.imagePath.encoders;
    const inDim = layout.frameDim + this.imagePath.dim;
    this.encoder = this.child("encoder", new CausalEncoder(rng, inDim, cfg.dModel, cfg.encLayers, cfg.heads, cfg.mlpRatio, cfg.history));
    this.decoder = this.child("decoder", cfg.decoder === "mlp"
      ? new MlpDecoder(rng, cfg.dModel, cfg.decDModel, cfg.decLayers, cfg.horizon, layout.actionDim)
      : new ChunkDecoder(rng, cfg.dModel, cfg.decDModel, cfg.decLayers, cfg.decHeads, cfg.mlpRatio, cfg.horizon, layout.actionDim));
    if (cfg.auxTarget && !images.length) throw new ScdError(`config auxTarget (${cfg.auxTarget.feature}) regresses from image features, and the observation features include none`);
    const want = cfg.auxTarget ? [cfg.auxTarget.feature] : [];
    const got = (layout.aux ?? []).map((f) => f.name);
    if (want.join() !== got.join()) throw new ScdError(`layout.aux [${got.join(", ")}] does not match config auxTarget (${want.join(", ") || "none"}): build the layout with the policy's frameOptions`);
    // own seed, created last: the rest of the model initialises as without the head
    const ar = new Rng(seed * 7919 + 57);
    this.auxHead = cfg.auxTarget ? {
      l1: this.child("aux.l1", new Linear(ar, this.imagePath.dim, cfg.auxTarget.hidden)),
      l2: this.child("aux.l2", new Linear(ar, cfg.auxTarget.hidden, layout.aux!.reduce((a, f) => a + f.dim, 0))),
    } : null;
  }

  /** Parameters only the training loss reads (the aux head): the export leaves them out. */
  trainingOnly(name: string): boolean {
    return name.startsWith("aux.");
  }

  /**
   * The encoder's input: the frame [..., F] with each image's features appended → [..., F + images·dOut]. `images`:
   * one per layout image feature, cropped, normalized [N, c, c, 3] with N = the frame's leading dims' product
   * (rows in the frame's order); on any Ops.
   */
  encoderInput<T>(o: Ops<T>, frame: T, images: T[], leading: number[]): T {
    return this.imagePath.append(o, frame, images, leading);
  }

  /** The inference crop on any Ops: the centre crop × crop window of normalized images [N, H, W, 3] (robomimic's offsets). */
  centerCrop<T>(o: Ops<T>, image: T, i: number): T {
    return this.imagePath.centerCrop(o, image, i); // [N, c, c, 3]
  }

  lrMult(name: string): number {
    return name.startsWith("decoder.") ? this.cfg.decoderLrMult : 1;
  }

  loss(b: WindowTensors, rng: Rng): tf.Scalar {
    const { H, A } = { H: this.horizon, A: this.actionDim };
    const P = b.posIdx.length / b.B, M = this.cfg.decoderDraws;
    this.imagePath.check(b.images, "ScdModel.loss");
    return tf.tidy(() => {
      const frames = tf.tensor(b.frames, [b.B, b.L, b.frames.length / (b.B * b.L)]);
      // images [B·L, H, W, 3] → a random crop each (Diffusion Policy's augmentation) → features beside the frame
      const crops = this.imagePath.trainCrops(b.images, b.B * b.L, rng);
      const feats = this.imagePath.encode(tfOps, crops, [b.B, b.L]); // [B, L, dOut] per image
      const enc = this.encoder.forward(this.imagePath.join(tfOps, frames, feats, 2), tf.tensor(b.keyPad, [b.B, b.L])); // [B, L, d]
      let ctx = tf.gather(enc.reshape([b.B * b.L, -1]), tf.tensor(b.posIdx, undefined, "int32")); // [B·P, d]
      ctx = tf.tile(ctx, [M, 1]); // [N, d]: M noise draws per encoder pass
      if (this.cfg.contextNoise > 0) ctx = ctx.add(tf.tensor(rng.normals(ctx.size, this.cfg.contextNoise), ctx.shape));
      const x0 = tf.tile(tf.tensor(b.targets, [b.B * P, H, A]), [M, 1, 1]); // [N, H, A]
      const { xt, target, levels } = noisyTargets(x0, rng, this.cfg.objective);
      const chunk = this.decoder.denoise(tfOps, this.decoder.condition(tfOps, ctx, levels), xt).sub(target).square().mean() as tf.Scalar;
      this.parts = null;
      if (!this.auxHead) return chunk;
      if (!b.aux) throw new ScdError("ScdModel.loss: config auxTarget is set and the batch has no aux targets (layout.aux)");
      const D = b.aux.length / (b.B * b.L);
      const h = this.auxHead.l1.apply(tfOps, tf.concat(feats, 2).reshape([b.B * b.L, -1]), "relu"); // [B·L, hidden]
      const err = this.auxHead.l2.apply(tfOps, h).sub(tf.tensor(b.aux, [b.B * b.L, D])).square(); // [B·L, D]
      // MSE over the frames inside the episode (a padded position repeats the edge frame: not counted twice)
      const valid = tf.sub(1, tf.tensor(b.keyPad, [b.B * b.L, 1]));
      const aux = err.mul(valid).sum().div(valid.sum().mul(D).maximum(1)) as tf.Scalar;
      const [c, a] = tf.stack([chunk, aux]).dataSync(); // one read for both terms
      this.parts = { chunk: c, aux: a };
      return chunk.add(aux.mul(this.cfg.auxTarget!.weight)) as tf.Scalar;
    });
  }

  /** The terms of the last loss() (chunk: the flow/ε MSE; aux: the aux head's MSE, before its weight), or null without auxTarget. */
  lossParts(): { chunk: number; aux: number } | null {
    return this.parts;
  }

  reset(batch: number): void {
    void batch;
    this.encoder.resetCache();
    this.ctx?.dispose();
    this.ctx = null;
  }

  /** One frame [B, F] and its images (normalized [B, H, W, 3], centre-cropped here) → the encoder's step. */
  observe(frame: tf.Tensor, images?: tf.Tensor[]): void {
    this.imagePath.check(images, "ScdModel.observe", frame.shape[0]);
    const x = this.imagePath.frameInput(frame, images);
    let c: tf.Tensor;
    try {
      c = this.encoder.observe(x);
    } finally {
      if (x !== frame) x.dispose();
    }
    this.ctx?.dispose();
    this.ctx = c;
  }

  /** Euler (flow) or DDIM (ddpm) from pure noise; the encoder is not run here. */
  sample(steps: number, rng: Rng, guide?: SampleGuide): tf.Tensor {
    if (!this.ctx) throw new Error("ScdModel.sample before observe()");
    const ctx = this.ctx;
    const N = ctx.shape[0]!, H = this.horizon, A = this.actionDim;
    return tf.tidy(() => {
      // conditioning for all K steps in one batched pass, then one decoder evaluation per step
      const lv = samplerLevels(this.cfg.objective, steps);
      const conds = splitSteps(this.decoder.condition(tfOps, tf.tile(ctx, [lv.length, 1]), lv.flatMap((l) => new Array(N).fill(l))), lv.length);
      return sampleChunks(this.cfg.objective, steps, [N, H, A], rng, (x, _l, i) => this.decoder.denoise(tfOps, conds[i], x), guide);
    });
  }

  dispose(): void {
    this.encoder.disposeCache();
    this.ctx?.dispose();
    this.ctx = null;
    super.dispose();
  }
}
