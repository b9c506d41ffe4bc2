/**
 * Diffusion Policy's 1-D temporal U-Net (Chi et al. 2023; diffusion_policy/model/diffusion/conditional_unet1d.py)
 * over the action chunk [N, H, A], channels last. Global condition = [diffusion-step embedding (sinusoidal → MLP
 * with Mish) ; the last nObsSteps frames flattened]; every ConditionalResidualBlock1D gets a per-channel FiLM
 * scale and bias from it. Down path: two residual blocks per level, stride-2 conv between levels; two mid blocks;
 * up path: skip concatenation, two residual blocks, 2× transposed conv; final Conv1dBlock + 1×1 conv to A.
 * DDPM training (100 steps, squared-cosine, ε-prediction) and DDIM sampling come from src/diffusion/.
 *
 * The network (`condition`, `denoise`) runs on any Ops: tfjs here (convolutions as explicit im2col, which the wasm
 * backend differentiates), ONNX's Conv and ConvTranspose in the traced export (export.ts).
 * The frames carry observations only (frameOptions prevAction: false): past actions are not visible.
 */
import type { SampleGuide } from "../../diffusion/sampler.ts";
import * as tf from "@tensorflow/tfjs";
import { Module, GroupNorm, mish } from "../../nn/module.ts";
import type { Ops, Levels } from "../../nn/ops.ts";
import { tfOps } from "../../nn/tf-ops.ts";
import { noisyTargets, sampleChunks, samplerLevels } from "../../diffusion/objective.ts";
import { DDPM_TRAIN_STEPS } from "../../diffusion/schedules.ts";
import type { PolicyModel } from "../registry.ts";
import type { FrameLayout, WindowTensors } from "../frames.ts";
import { Rng } from "../../util/rng.ts";
import type { DpUnetConfig } from "./config.ts";

/** PyTorch's default Linear/Conv1d init (kaiming_uniform, a = √5), weights and biases: U(−1/√fanIn, 1/√fanIn). */
function torchUniform(rng: Rng, n: number, fanIn: number): Float32Array {
  const b = 1 / Math.sqrt(fanIn);
  return Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * b);
}

/** A weight matrix [dIn, dOut] and bias [dOut] with PyTorch's init for the given fan-in: x W + b. */
class Dense extends Module {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  constructor(rng: Rng, dIn: number, dOut: number, fanIn = dIn) {
    super();
    this.w = this.param("w", [dIn, dOut], torchUniform(rng, dIn * dOut, fanIn));
    this.b = this.param("b", [dOut], torchUniform(rng, dOut, fanIn));
  }
  apply<T>(o: Ops<T>, x: T): T {
    return o.linear(x, o.param(this.w), o.param(this.b));
  }
}

/**
 * Conv1d (stride 1, "same" padding k//2) on x [N, T, cIn] → [N, T, cOut]. Weight rows are tap-major:
 * row i·cIn + c holds PyTorch's weight[:, c, i].
 */
export class Conv1d extends Dense {
  constructor(rng: Rng, cIn: number, cOut: number, readonly k: number) {
    super(rng, k * cIn, cOut, k * cIn);
  }
  apply<T>(o: Ops<T>, x: T): T {
    return o.conv1d(x, o.param(this.w), o.param(this.b), this.k, 1, (this.k - 1) / 2);
  }
}

/** DP's Conv1dBlock: Conv1d(k) → GroupNorm → Mish. */
class ConvBlock extends Module {
  readonly conv: Conv1d;
  readonly norm: GroupNorm;
  constructor(rng: Rng, cIn: number, cOut: number, k: number, groups: number) {
    super();
    this.conv = this.child("conv", new Conv1d(rng, cIn, cOut, k));
    this.norm = this.child("norm", new GroupNorm(groups, cOut));
  }
  apply<T>(o: Ops<T>, x: T): T {
    return mish(o, this.norm.apply(o, this.conv.apply(o, x)));
  }
}

/** DP's ConditionalResidualBlock1D with cond_predict_scale: block1(scale · block0(x) + bias) + residual(x). */
class ResBlock extends Module {
  readonly block0: ConvBlock;
  readonly block1: ConvBlock;
  readonly film: Dense;
  readonly residual: Conv1d | null;
  constructor(rng: Rng, readonly cIn: number, readonly cOut: number, condDim: number, k: number, groups: number) {
    super();
    this.block0 = this.child("block0", new ConvBlock(rng, cIn, cOut, k, groups));
    this.block1 = this.child("block1", new ConvBlock(rng, cOut, cOut, k, groups));
    this.film = this.child("film", new Dense(rng, condDim, 2 * cOut)); // [scale ; bias], as DP's reshape(B, 2, C)
    this.residual = cIn === cOut ? null : this.child("residual", new Conv1d(rng, cIn, cOut, 1));
  }
  /** x [N, T, cIn]; this block's FiLM [scale ; bias] at columns `at` … `at` + 2·cOut of films [N, Σ 2·C] → [N, T, cOut]. */
  apply<T>(o: Ops<T>, x: T, films: T, at: number): T {
    const C = this.cOut, scale = o.expandDims(o.slice(films, 1, at, at + C), 1), bias = o.expandDims(o.slice(films, 1, at + C, at + 2 * C), 1); // [N, 1, C]
    const h = o.add(o.mul(this.block0.apply(o, x), scale), bias);
    return o.add(this.block1.apply(o, h), this.residual ? this.residual.apply(o, x) : x);
  }
}

/** DP's Downsample1d: Conv1d(C, C, 3, stride 2, padding 1); T even → T/2. */
export class Downsample extends Dense {
  constructor(rng: Rng, readonly C: number) {
    super(rng, 3 * C, C, 3 * C);
  }
  apply<T>(o: Ops<T>, x: T): T {
    return o.conv1d(x, o.param(this.w), o.param(this.b), 3, 2, 1);
  }
}

/** DP's Upsample1d: ConvTranspose1d(C, C, 4, stride 2, padding 1); T → 2T. */
export class Upsample extends Module {
  readonly w: tf.Variable; // [4, cIn, cOut]: tap i holds PyTorch's weight[:, :, i]
  readonly b: tf.Variable;
  constructor(rng: Rng, readonly C: number) {
    super();
    this.w = this.param("w", [4, C, C], torchUniform(rng, 4 * C * C, 4 * C)); // PyTorch's fan-in: weight.size(1)·k
    this.b = this.param("b", [C], torchUniform(rng, C, 4 * C));
  }
  apply<T>(o: Ops<T>, x: T): T {
    return o.convTranspose1d(x, o.param(this.w), o.param(this.b));
  }
}

/** DP's SinusoidalPosEmb of the integer diffusion step t = round(level·100): [sin(t·f_i) ; cos(t·f_i)], f_i = 10000^(−i/(half−1)). */
export function stepEmbedding<T>(o: Ops<T>, levels: Levels<T>, dim: number): T {
  const half = dim / 2, e = Math.log(10000) / (half - 1);
  return o.sinusoid(levels, Array.from({ length: half }, (_, i) => Math.exp(-e * i)), DDPM_TRAIN_STEPS, true);
}

/**
 * The observation history of each trained position of a batch, [n, K·F] (oldest first): frames before the
 * episode start (padded in the window) repeat the first real frame, as Diffusion Policy's sampler pads.
 */
export function obsHistory(b: WindowTensors, K: number, F: number): Float32Array {
  const n = b.posIdx.length, x = new Float32Array(n * K * F);
  for (let r = 0; r < n; r++) {
    const flat = b.posIdx[r], bi = Math.floor(flat / b.L), j = flat - bi * b.L;
    let first = j; // the earliest real frame among the K, searching back from the anchor
    while (first > j - K + 1 && first > 0 && b.keyPad[bi * b.L + first - 1] === 0) first--;
    for (let k = 0; k < K; k++) {
      const jj = Math.max(j - K + 1 + k, first);
      x.set(b.frames.subarray((bi * b.L + jj) * F, (bi * b.L + jj + 1) * F), (r * K + k) * F);
    }
  }
  return x;
}

type DownLevel = { res: [ResBlock, ResBlock]; sample: Downsample | null };
type UpLevel = { res: [ResBlock, ResBlock]; sample: Upsample };

export class DpUnetModel extends Module implements PolicyModel {
  readonly horizon: number;
  readonly actionDim: number;
  readonly window: number;
  readonly positionsPerWindow = 1; // the anchor: condition on frames t−nObs+1 … t, predict a_t … a_{t+H−1}
  readonly defaultSteps: number;
  readonly stepFc1: Dense;
  readonly stepFc2: Dense;
  readonly down: DownLevel[];
  readonly mid: ResBlock[];
  readonly up: UpLevel[];
  readonly finalBlock: ConvBlock;
  readonly finalConv: Conv1d;
  private readonly F: number;
  /** The last nObsSteps frames [B, F] each, oldest first. */
  private recent: tf.Tensor[] = [];

  constructor(readonly cfg: DpUnetConfig, layout: FrameLayout, seed: number) {
    super();
    const rng = new Rng(seed);
    const { kernelSize: k, nGroups: g, stepEmbedDim: dsed } = cfg;
    this.F = layout.frameDim;
    this.horizon = cfg.horizon;
    this.actionDim = layout.actionDim;
    this.window = cfg.nObsSteps;
    this.defaultSteps = cfg.defaultSteps;
    const condDim = dsed + cfg.nObsSteps * this.F;
    this.stepFc1 = this.child("step.fc1", new Dense(rng, dsed, 4 * dsed));
    this.stepFc2 = this.child("step.fc2", new Dense(rng, 4 * dsed, dsed));
    const dims = [layout.actionDim, ...cfg.downDims];
    const res = (name: string, cIn: number, cOut: number) => this.child(name, new ResBlock(rng, cIn, cOut, condDim, k, g));
    this.down = cfg.downDims.map((c, i): DownLevel => ({
      res: [res(`down${i}.res0`, dims[i], c), res(`down${i}.res1`, c, c)],
      sample: i < cfg.downDims.length - 1 ? this.child(`down${i}.downsample`, new Downsample(rng, c)) : null,
    }));
    const top = cfg.downDims.at(-1)!;
    this.mid = [res("mid0", top, top), res("mid1", top, top)];
    // DP pairs (dIn, dOut) = reversed(in_out[1:]): the skip of the outermost level is never concatenated
    this.up = cfg.downDims.slice(0, -1).map((_, j): UpLevel => {
      const i = cfg.downDims.length - 2 - j, dIn = cfg.downDims[i], dOut = cfg.downDims[i + 1];
      return { res: [res(`up${j}.res0`, 2 * dOut, dIn), res(`up${j}.res1`, dIn, dIn)], sample: this.child(`up${j}.upsample`, new Upsample(rng, dIn)) };
    });
    this.finalBlock = this.child("final.block", new ConvBlock(rng, cfg.downDims[0], cfg.downDims[0], k, g));
    this.finalConv = this.child("final.conv", new Conv1d(rng, cfg.downDims[0], layout.actionDim, 1));
  }

  private resBlocks(): ResBlock[] {
    return [...this.down.flatMap((l) => l.res), ...this.mid, ...this.up.flatMap((l) => l.res)];
  }

  lrMult(): number {
    return 1;
  }

  /**
   * obs [N, nObs·F] (normalized frames, oldest first), levels [N] (t / 100) → FiLM parameters of every residual
   * block, [scale ; bias] per block in forward order, concatenated: films [N, Σ 2·C]. x-independent, so
   * sampling computes them once per chunk.
   */
  condition<T>(o: Ops<T>, obs: T, levels: Levels<T>): T {
    const temb = this.stepFc2.apply(o, mish(o, this.stepFc1.apply(o, stepEmbedding(o, levels, this.cfg.stepEmbedDim))));
    const c = mish(o, o.concat([temb, obs], 1)); // DP's cond_encoder starts with Mish
    return o.concat(this.resBlocks().map((b) => b.film.apply(o, c)), 1);
  }

  /** One network evaluation: noisy chunk x [N, H, A] and its films → predicted noise ε [N, H, A]. */
  denoise<T>(o: Ops<T>, films: T, x: T): T {
    let at = 0;
    const res = (b: ResBlock, h: T) => {
      const y = b.apply(o, h, films, at);
      at += 2 * b.cOut;
      return y;
    };
    let h = x;
    const skips: T[] = [];
    for (const l of this.down) {
      h = res(l.res[1], res(l.res[0], h));
      skips.push(h);
      if (l.sample) h = l.sample.apply(o, h);
    }
    for (const m of this.mid) h = res(m, h);
    for (const l of this.up) {
      h = o.concat([h, skips.pop()!], 2);
      h = l.sample.apply(o, res(l.res[1], res(l.res[0], h)));
    }
    return this.finalConv.apply(o, this.finalBlock.apply(o, h));
  }

  /** DDPM ε-prediction MSE at the anchor position of each window. */
  loss(b: WindowTensors, rng: Rng): tf.Scalar {
    const n = b.posIdx.length, H = this.horizon, A = this.actionDim;
    const obs = obsHistory(b, this.cfg.nObsSteps, this.F);
    return tf.tidy(() => {
      const { xt, target, levels } = noisyTargets(tf.tensor(b.targets, [n, H, A]), rng, "ddpm");
      const films = this.condition(tfOps, tf.tensor(obs, [n, this.cfg.nObsSteps * this.F]), levels);
      return this.denoise(tfOps, films, xt).sub(target).square().mean() as tf.Scalar;
    });
  }

  reset(batch: number): void {
    void batch;
    tf.dispose(this.recent);
    this.recent = [];
  }

  /** Keep the last nObsSteps frames [B, F]; the first frame after reset fills the whole history. */
  observe(frame: tf.Tensor): void {
    if (!this.recent.length) {
      this.recent = Array.from({ length: this.cfg.nObsSteps }, () => tf.clone(frame));
      return;
    }
    this.recent.shift()!.dispose();
    this.recent.push(tf.clone(frame));
  }

  /** DDIM from pure noise in `steps` U-Net evaluations → chunk [B, H, A] in normalized units. */
  sample(steps: number, rng: Rng, guide?: SampleGuide): tf.Tensor {
    if (!this.recent.length) throw new Error("DpUnetModel.sample before observe()");
    const B = this.recent[0].shape[0]!, H = this.horizon, A = this.actionDim;
    return tf.tidy(() => {
      const lv = samplerLevels("ddpm", steps);
      const obs = tf.concat(this.recent, 1); // [B, nObs·F]
      const films = tf.split(this.condition(tfOps, tf.tile(obs, [lv.length, 1]), lv.flatMap((l) => new Array(B).fill(l))), lv.length, 0); // per step
      return sampleChunks("ddpm", steps, [B, H, A], rng, (x, _l, i) => this.denoise(tfOps, films[i], x), guide);
    });
  }

  dispose(): void {
    this.reset(0);
    super.dispose();
  }
}
