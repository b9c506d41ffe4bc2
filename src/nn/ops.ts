/**
 * The ops every network is written against, so one forward function both runs and exports: on TensorFlow.js
 * tensors (training with gradients, and tfjs inference: tf-ops.ts) and on symbolic values that emit ONNX nodes
 * (src/deploy/onnx-ops.ts traces the export from the same code). A value is opaque (T); a parameter is a Module's
 * tf.Variable, turned into a value by `param`. Shapes in the comments; a reshape's 0 copies the input's dim (as
 * ONNX's), so code written against Ops never needs a batch size.
 */
import type * as tf from "@tensorflow/tfjs";

/** "same": zero padding (k − 1)/2 on every side (odd kernels; output ⌈n / stride⌉); "valid": none. */
export type Padding = "same" | "valid";

/**
 * Zero padding on each side for a kernel of k taps: (k − 1)/2 for "same", 0 for "valid". At stride 1 "same" equals
 * TensorFlow's SAME; at stride 2 the output size is the same (⌈n/2⌉) but windows start one pixel earlier, as
 * PyTorch's Conv2d(padding=k//2) (and torchvision's ResNet).
 * @throws Error for "same" with an even kernel (no symmetric padding keeps the size).
 */
export function convPad(k: number, padding: Padding): number {
  if (padding === "valid") return 0;
  if (padding !== "same") throw new Error(`conv2d: padding "${padding}" is not supported (valid: "same", "valid")`);
  if (k % 2 === 0) throw new Error(`conv2d: padding "same" needs an odd kernel size (got ${k}); use "valid" and pad explicitly`);
  return (k - 1) / 2;
}

/** The activation fused into a linear layer. */
export type Activation = "linear" | "relu" | "sigmoid";

/** Noise levels: host numbers (embedded in float64, as JavaScript computes them) or a float64 value (a graph input). */
export type Levels<T> = T | ArrayLike<number>;

/** The ops a network is written against, over values of type T (tf.Tensor on tfjs, a traced value for ONNX). */
export interface Ops<T> {
  /** A parameter (a Module's variable) as a value. */
  param(v: tf.Variable): T;
  /** A float32 constant. */
  constant(data: ArrayLike<number>, shape: number[]): T;

  /** x [..., dIn] · w [dIn, dOut] + b [dOut], then the activation: one fused op where the runtime has one. */
  linear(x: T, w: T, b: T | null, activation?: Activation): T;
  /** Batched a [..., M, K] · b [..., K, N] (b [..., N, K] when transposeB). */
  matmul(a: T, b: T, transposeB?: boolean): T;
  /** x [B, S, D] · w [D, parts·D] + b, each part split into heads: parts × [B, heads, S, D/heads] (q, k, v). */
  headSplit(x: T, w: T, b: T, parts: number, heads: number): T[];

  /** a + b, element-wise with broadcasting; a number is a scalar. */
  add(a: T, b: T | number): T;
  /** a − b, element-wise with broadcasting; a number is a scalar. */
  sub(a: T, b: T | number): T;
  /** a · b, element-wise with broadcasting; a number is a scalar. */
  mul(a: T, b: T | number): T;
  /** max(x, 0). */
  relu(x: T): T;
  /** 1 / (1 + e^−x). */
  sigmoid(x: T): T;
  /** tanh(x). */
  tanh(x: T): T;
  /** log(1 + e^x). */
  softplus(x: T): T;
  /** Softmax over the last axis. */
  softmax(x: T): T;
  /** Clip to [lo, hi]; a non-finite value becomes NaN (never a valid-looking bound). */
  clip(x: T, lo: number, hi: number): T;

  /** Normalize over the last axis, then · g + b. */
  layerNorm(x: T, g: T, b: T, eps: number): T;
  /** x [N, T, C]: statistics per item over time × the channels of each of `groups` groups, then · g + b. */
  groupNorm(x: T, g: T, b: T, groups: number, eps: number): T;

  /** New dims; 0 copies the input's dim at that axis, one −1 is inferred. */
  reshape(x: T, shape: number[]): T;
  /** Axes permuted: output axis i is input axis perm[i]. */
  transpose(x: T, perm: number[]): T;
  /** Joined along `axis`. */
  concat(xs: T[], axis: number): T;
  /** Entries [start, end) along `axis`. */
  slice(x: T, axis: number, start: number, end: number): T;
  /** The last n entries along `axis` (all of them when there are fewer; none when n = 0). */
  last(x: T, axis: number, n: number): T;
  /** A new axis of size 1 at `axis`. */
  expandDims(x: T, axis: number): T;
  /** Axis `axis` (of size 1) removed. */
  squeeze(x: T, axis: number): T;

  /** Conv1d on channels-last x [N, T, cIn] with w [k·cIn, cOut] (row i·cIn + c = tap i, channel c): zero padding `pad` each side. */
  conv1d(x: T, w: T, b: T, k: number, stride: number, pad: number): T;
  /** ConvTranspose1d (kernel 4, stride 2, padding 1) on x [N, T, C] with w [4, C, C] (tap-major) → [N, 2T, C]. */
  convTranspose1d(x: T, w: T, b: T): T;

  /**
   * Conv2d on channels-last x [N, H, W, cIn] with w [k, k, cIn, cOut] (TensorFlow's HWIO) and b [cOut] or null →
   * [N, Ho, Wo, cOut], Ho = ⌊(H + 2·pad − k)/stride⌋ + 1, pad = (k − 1)/2 for "same" (odd k; PyTorch's k // 2, the
   * same zero padding on every side: `convPad`) or 0 for "valid". tfjs: src/nn/conv.ts.
   */
  conv2d(x: T, w: T, b: T | null, stride: number, padding: Padding): T;
  /** x [N, H, W, C]: statistics per item over H × W × the channels of each of `groups` groups, then · g + b (g, b [C]). */
  groupNorm2d(x: T, g: T, b: T, groups: number, eps: number): T;
  /**
   * Spatial softmax (Levine et al. 2016, "End-to-End Training of Deep Visuomotor Policies"; robomimic's SpatialSoftmax
   * as Diffusion Policy's image encoder uses it): per channel, a softmax over the H·W positions, then the expected
   * position under it, x over the width and y over the height, each from −1 to 1 (linspace). x [N, H, W, C] (H, W ≥ 2)
   * → keypoints [N, 2C] as (x_0, y_0, x_1, y_1, …).
   */
  spatialSoftmax(x: T): T;

  /** Sinusoidal embedding [N, 2·freqs.length]: [sin(f_i·u) ; cos(f_i·u)] of u = level·scale (rounded when `round`). */
  sinusoid(levels: Levels<T>, freqs: number[], scale: number, round?: boolean): T;
  /**
   * ALiBi bias [1, heads, 1, n + extra] for one query position over the n entries of `keys` along `axis` followed
   * by `extra` more: −slope_h · distance, distances n + extra − 1 … 0 (the oldest key first).
   */
  alibi(keys: T, axis: number, slopes: number[], extra: number): T;
}
