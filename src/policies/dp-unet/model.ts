/**
 * Diffusion Policy's 1-D temporal U-Net (Chi et al. 2023; diffusion_policy/model/diffusion/conditional_unet1d.py)
 * over the action chunk [N, H, A], channels last. Global condition = [diffusion-step embedding (sinusoidal → MLP
 * with Mish) ; the last nObsSteps frames flattened]; every ConditionalResidualBlock1D gets a per-channel FiLM
 * scale and bias from it. Down path: two residual blocks per level, stride-2 conv between levels; two mid blocks;
 * up path: skip concatenation, two residual blocks, 2× transposed conv; final Conv1dBlock + 1×1 conv to A.
 * DDPM training (100 steps, squared-cosine, ε-prediction) and DDIM sampling come from src/diffusion/.
 *
 * Every convolution is an explicit im2col (shifted slices concatenated → one matmul): the wasm backend has no
 * Conv2DBackpropFilter, and the slices, pads, concats and matmuls it lowers to all have wasm kernels and gradients.
 * The frames carry observations only (frameOptions prevAction: false): past actions are not visible.
 */
import * as tf from "@tensorflow/tfjs";
import { Module } from "../../nn/module.ts";
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

/** Mish (Misra 2019): x · tanh(softplus(x)); softplus and tanh both have wasm kernels. */
export function mish(x: tf.Tensor): tf.Tensor {
  return x.mul(tf.tanh(tf.softplus(x)));
}

/** x [..., dIn] → x W + b [..., dOut] in one fused op. */
function affine(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const lead = x.shape.slice(0, -1);
  return tf.fused.matMul({ a: x.reshape([-1, w.shape[0]!]), b: w, bias: b }).reshape([...lead, w.shape[1]!]);
}

/** A weight matrix [dIn, dOut] and bias [dOut] with PyTorch's init for the given fan-in. */
class Dense extends Module {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  constructor(rng: Rng, dIn: number, dOut: number, fanIn = dIn) {
    super();
    this.w = this.param("w", [dIn, dOut], torchUniform(rng, dIn * dOut, fanIn));
    this.b = this.param("b", [dOut], torchUniform(rng, dOut, fanIn));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return affine(x, this.w, this.b);
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
  forward(x: tf.Tensor): tf.Tensor {
    if (this.k === 1) return affine(x, this.w, this.b);
    const T = x.shape[1]!, p = (this.k - 1) / 2;
    const xp = tf.pad(x, [[0, 0], [p, p], [0, 0]]);
    const cols = tf.concat(Array.from({ length: this.k }, (_, i) => xp.slice([0, i, 0], [-1, T, -1])), 2); // [N, T, k·cIn]
    return affine(cols, this.w, this.b);
  }
}

/** GroupNorm over (time, channels of a group) per item, eps 1e-5 as PyTorch; x [N, T, C]. */
export class GroupNorm extends Module {
  readonly g: tf.Variable;
  readonly b: tf.Variable;
  constructor(readonly groups: number, readonly C: number) {
    super();
    this.g = this.param("g", [C], new Float32Array(C).fill(1));
    this.b = this.param("b", [C], new Float32Array(C));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const [N, T] = x.shape as number[];
    const xg = x.reshape([N, T, this.groups, this.C / this.groups]);
    const { mean, variance } = tf.moments(xg, [1, 3], true);
    return xg.sub(mean).mul(variance.add(1e-5).rsqrt()).reshape([N, T, this.C]).mul(this.g).add(this.b);
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
  forward(x: tf.Tensor): tf.Tensor {
    return mish(this.norm.forward(this.conv.forward(x)));
  }
}

/** DP's ConditionalResidualBlock1D with cond_predict_scale: block1(scale · block0(x) + bias) + residual(x). */
class ResBlock extends Module {
  readonly block0: ConvBlock;
  readonly block1: ConvBlock;
  readonly film: Dense;
  readonly residual: Conv1d | null;
  constructor(rng: Rng, cIn: number, readonly cOut: number, condDim: number, k: number, groups: number) {
    super();
    this.block0 = this.child("block0", new ConvBlock(rng, cIn, cOut, k, groups));
    this.block1 = this.child("block1", new ConvBlock(rng, cOut, cOut, k, groups));
    this.film = this.child("film", new Dense(rng, condDim, 2 * cOut)); // [scale ; bias], as DP's reshape(B, 2, C)
    this.residual = cIn === cOut ? null : this.child("residual", new Conv1d(rng, cIn, cOut, 1));
  }
  /** x [N, T, cIn], film [N, 2·cOut] (from the Mish-activated global condition) → [N, T, cOut]. */
  forward(x: tf.Tensor, film: tf.Tensor): tf.Tensor {
    const [scale, bias] = tf.split(film.expandDims(1), 2, 2); // [N, 1, cOut] each
    const h = this.block0.forward(x).mul(scale).add(bias);
    return this.block1.forward(h).add(this.residual ? this.residual.forward(x) : x);
  }
}

/** DP's Downsample1d: Conv1d(C, C, 3, stride 2, padding 1); T even → T/2. */
export class Downsample extends Dense {
  constructor(rng: Rng, readonly C: number) {
    super(rng, 3 * C, C, 3 * C);
  }
  forward(x: tf.Tensor): tf.Tensor {
    const [N, T] = x.shape as number[], C = this.C;
    // padded frames in pairs: row m = [xp[2m], xp[2m+1]]; output i needs xp[2i], xp[2i+1], xp[2i+2]
    const pairs = tf.pad(x, [[0, 0], [1, 1], [0, 0]]).reshape([N, T / 2 + 1, 2 * C]);
    const cols = tf.concat([pairs.slice([0, 0, 0], [-1, T / 2, -1]), pairs.slice([0, 1, 0], [-1, T / 2, C])], 2); // [N, T/2, 3C]
    return affine(cols, this.w, this.b);
  }
}

/**
 * DP's Upsample1d: ConvTranspose1d(C, C, 4, stride 2, padding 1); T → 2T. With xp = x padded by one frame each
 * side, y[2m] = xp[m]·W3 + xp[m+1]·W1 and y[2m+1] = xp[m+1]·W2 + xp[m+2]·W0: one matmul of the 3-frame im2col
 * with [[W3, 0], [W1, W2], [0, W0]] gives [even | odd] per m, and a reshape interleaves them.
 */
export class Upsample extends Module {
  readonly w: tf.Variable; // [4, cIn, cOut]: tap i holds PyTorch's weight[:, :, i]
  readonly b: tf.Variable;
  constructor(rng: Rng, readonly C: number) {
    super();
    this.w = this.param("w", [4, C, C], torchUniform(rng, 4 * C * C, 4 * C)); // PyTorch's fan-in: weight.size(1)·k
    this.b = this.param("b", [C], torchUniform(rng, C, 4 * C));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const [N, T] = x.shape as number[], C = this.C;
    const [w0, w1, w2, w3] = tf.unstack(this.w);
    const z = tf.zerosLike(w0);
    const wb = tf.concat([tf.concat([w3, z], 1), tf.concat([w1, w2], 1), tf.concat([z, w0], 1)], 0); // [3C, 2C]
    const xp = tf.pad(x, [[0, 0], [1, 1], [0, 0]]);
    const cols = tf.concat([0, 1, 2].map((i) => xp.slice([0, i, 0], [-1, T, -1])), 2); // [N, T, 3C]
    return affine(cols, wb, tf.concat([this.b, this.b])).reshape([N, 2 * T, C]);
  }
}

/** DP's SinusoidalPosEmb of the integer diffusion step t ∈ [0, 100): [sin(t·f_i) ; cos(t·f_i)], f_i = 10000^(−i/(half−1)). */
export function stepEmbedding(ts: ArrayLike<number>, dim: number): tf.Tensor {
  const half = dim / 2, e = Math.log(10000) / (half - 1), out = new Float32Array(ts.length * dim);
  for (let n = 0; n < ts.length; n++)
    for (let i = 0; i < half; i++) {
      const a = ts[n] * Math.exp(-e * i);
      out[n * dim + i] = Math.sin(a);
      out[n * dim + half + i] = Math.cos(a);
    }
  return tf.tensor(out, [ts.length, dim]);
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

/** Per-residual-block FiLM parameters [N, 2·C] in forward order: x-independent, so sampling computes them once. */
export type UnetCond = { films: tf.Tensor[] };

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

  /** obs [N, nObs·F] (normalized frames, oldest first), levels [N] (t / 100) → FiLM parameters of every block. */
  condition(obs: tf.Tensor, levels: ArrayLike<number>): UnetCond {
    const ts = Array.from(levels, (l) => Math.round(l * DDPM_TRAIN_STEPS)); // DP embeds the integer step
    const temb = this.stepFc2.forward(mish(this.stepFc1.forward(stepEmbedding(ts, this.cfg.stepEmbedDim))));
    const c = mish(tf.concat([temb, obs], 1)); // DP's cond_encoder starts with Mish
    return { films: this.resBlocks().map((b) => b.film.forward(c)) };
  }

  /** Split a condition computed for S·N rows into S conditions of N rows (sampling precomputes all K steps). */
  splitSteps(cond: UnetCond, S: number): UnetCond[] {
    const parts = cond.films.map((f) => tf.split(f, S, 0));
    return Array.from({ length: S }, (_, s) => ({ films: parts.map((p) => p[s]) }));
  }

  /** One network evaluation: noisy chunk x [N, H, A] → predicted noise ε [N, H, A]. */
  denoise(cond: UnetCond, x: tf.Tensor): tf.Tensor {
    let f = 0;
    const film = () => cond.films[f++];
    let h = x;
    const skips: tf.Tensor[] = [];
    for (const l of this.down) {
      h = l.res[1].forward(l.res[0].forward(h, film()), film());
      skips.push(h);
      if (l.sample) h = l.sample.forward(h);
    }
    for (const m of this.mid) h = m.forward(h, film());
    for (const l of this.up) {
      h = tf.concat([h, skips.pop()!], 2);
      h = l.sample.forward(l.res[1].forward(l.res[0].forward(h, film()), film()));
    }
    return this.finalConv.forward(this.finalBlock.forward(h));
  }

  /** DDPM ε-prediction MSE at the anchor position of each window. */
  loss(b: WindowTensors, rng: Rng): tf.Scalar {
    const n = b.posIdx.length, H = this.horizon, A = this.actionDim;
    const obs = obsHistory(b, this.cfg.nObsSteps, this.F);
    return tf.tidy(() => {
      const { xt, target, levels } = noisyTargets(tf.tensor(b.targets, [n, H, A]), rng, "ddpm");
      const cond = this.condition(tf.tensor(obs, [n, this.cfg.nObsSteps * this.F]), levels);
      return this.denoise(cond, xt).sub(target).square().mean() as tf.Scalar;
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
  sample(steps: number, rng: Rng): tf.Tensor {
    if (!this.recent.length) throw new Error("DpUnetModel.sample before observe()");
    const B = this.recent[0].shape[0]!, H = this.horizon, A = this.actionDim;
    return tf.tidy(() => {
      const lv = samplerLevels("ddpm", steps);
      const obs = tf.concat(this.recent, 1); // [B, nObs·F]
      const conds = this.splitSteps(this.condition(tf.tile(obs, [lv.length, 1]), lv.flatMap((l) => new Array(B).fill(l))), lv.length);
      return sampleChunks("ddpm", steps, [B, H, A], rng, (x, _l, i) => this.denoise(conds[i], x));
    });
  }

  dispose(): void {
    this.reset(0);
    super.dispose();
  }
}
