/**
 * Ops on TensorFlow.js tensors: what training differentiates through and tfjs inference runs. Every op is
 * differentiable on the wasm backend (1-D convolutions are explicit im2col: wasm has no Conv2DBackpropFilter; conv2d
 * is tf.conv2d with im2col gradient kernels registered for wasm, conv.ts). Call inside tf.tidy, as any tensor code.
 */
import * as tf from "@tensorflow/tfjs";
import { fastPaths } from "../backend/fast-paths.ts";
import type { Ops, Activation, Levels } from "./ops.ts";
import { conv2d } from "./conv.ts";

/** x [..., dIn] → x W + b [..., dOut] (+ activation) in one fused op: at batch 1 the op count sets the latency. */
function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null, activation: Activation = "linear"): tf.Tensor {
  const lead = x.shape.slice(0, -1), [dIn, dOut] = w.shape;
  return tf.fused.matMul({ a: x.reshape([-1, dIn]), b: w, bias: b ?? undefined, activation }).reshape([...lead, dOut]);
}

/** `parts` column blocks of x W + b, each split into heads [B, H, S, dh]. */
function headSplit(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, parts: number, heads: number): tf.Tensor[] {
  const [B, S, D] = x.shape, dh = D / heads;
  if (!fastPaths.headSplit) return tf.unstack(linear(x, w, b).reshape([B, S, parts, heads, dh]).transpose([2, 0, 3, 1, 4]));
  // fast path: one matmul per block of the weight's columns, split into heads by a rank-4 transpose. The stock
  // path's rank-5 transpose runs 100-200x slower on wasm, and splitting activations (SplitV/Unpack) copies the
  // whole input per output; slicing the [D, parts·D] weight is cheap. Same function.
  return Array.from({ length: parts }, (_, i) => {
    const y = tf.fused.matMul({ a: x.reshape([-1, D]), b: w.slice([0, i * D], [D, D]), bias: b.slice([i * D], [D]) }); // [B·S, D]
    return y.reshape([B, S, heads, dh]).transpose([0, 2, 1, 3]);
  });
}

/** Conv1d as im2col: "same"-style stride-1 taps of the padded input side by side, then one matmul. */
function conv1d(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, k: number, stride: number, pad: number): tf.Tensor {
  const [N, T, C] = x.shape;
  if (k === 1 && stride === 1 && pad === 0) return linear(x, w, b);
  const xp = tf.pad(x, [[0, 0], [pad, pad], [0, 0]]);
  if (stride === 1) {
    const To = T + 2 * pad - k + 1;
    return linear(tf.concat(Array.from({ length: k }, (_, i) => xp.slice([0, i, 0], [-1, To, -1])), 2), w, b); // [N, To, k·C]
  }
  if (stride !== 2 || k !== 3 || pad !== 1 || T % 2) throw new Error(`conv1d on tfjs: stride ${stride} supports only kernel 3, padding 1 and an even length (got k ${k}, padding ${pad}, length ${T})`);
  // padded frames in pairs: row m = [xp[2m], xp[2m+1]]; output i needs xp[2i], xp[2i+1], xp[2i+2]
  const pairs = xp.reshape([N, T / 2 + 1, 2 * C]);
  return linear(tf.concat([pairs.slice([0, 0, 0], [-1, T / 2, -1]), pairs.slice([0, 1, 0], [-1, T / 2, C])], 2), w, b); // [N, T/2, 3C]
}

/**
 * ConvTranspose1d(4, stride 2, padding 1): with xp = x padded by one frame each side, y[2m] = xp[m]·W3 + xp[m+1]·W1
 * and y[2m+1] = xp[m+1]·W2 + xp[m+2]·W0: one matmul of the 3-frame im2col with [[W3, 0], [W1, W2], [0, W0]] gives
 * [even | odd] per m, and a reshape interleaves them.
 */
function convTranspose1d(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [N, T, C] = x.shape;
  const [w0, w1, w2, w3] = tf.unstack(w);
  const z = tf.zerosLike(w0);
  const wb = tf.concat([tf.concat([w3, z], 1), tf.concat([w1, w2], 1), tf.concat([z, w0], 1)], 0); // [3C, 2C]
  const xp = tf.pad(x, [[0, 0], [1, 1], [0, 0]]);
  const cols = tf.concat([0, 1, 2].map((i) => xp.slice([0, i, 0], [-1, T, -1])), 2); // [N, T, 3C]
  return linear(cols, wb, tf.concat([b, b])).reshape([N, 2 * T, C]);
}

function sinusoid(levels: Levels<tf.Tensor>, freqs: number[], scale: number, round = false): tf.Tensor {
  const lv = levels instanceof tf.Tensor ? levels.dataSync() : levels;
  const half = freqs.length, out = new Float32Array(lv.length * 2 * half);
  for (let n = 0; n < lv.length; n++) {
    const u = round ? Math.round(lv[n] * scale) : lv[n] * scale;
    for (let i = 0; i < half; i++) {
      out[n * 2 * half + i] = Math.sin(freqs[i] * u);
      out[n * 2 * half + half + i] = Math.cos(freqs[i] * u);
    }
  }
  return tf.tensor(out, [lv.length, 2 * half]);
}

function alibi(keys: tf.Tensor, axis: number, slopes: number[], extra: number): tf.Tensor {
  const n = keys.shape[axis] + extra, m = new Float32Array(slopes.length * n);
  slopes.forEach((s, h) => {
    for (let j = 0; j < n; j++) m[h * n + j] = -s * (n - 1 - j);
  });
  return tf.tensor(m, [1, slopes.length, 1, n]);
}

/**
 * GroupNorm on x [N, H, W, C] with its gradient written out (Wu & He 2018, eq. 1; the backward pass of a
 * normalization: dx = σ⁻¹·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) per group, dx̂ = dy·g). Every full-size op is
 * same-shape or broadcasts a per-(image, channel) [N, 1, C] factor: wasm's broadcast of a per-group
 * [N, 1, G, 1] factor over [N, H·W, G, C/G] runs ~7x slower, and autodiff through tf.moments takes twice the ops.
 * Sums over positions go rows first, then columns: wasm sums in float32 one term after another, and one sum over
 * H·W moved the encoder's features by 1.6e-4 where a map is nearly constant (white floor); now 3e-6 from cpu's.
 */
function groupNorm2d(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, groups: number, eps: number): tf.Tensor {
  const [N, H, W, C] = x.shape, S = H * W, Cg = C / groups, M = S * Cg;
  // Σ over positions [N, H, W, C] → [N, C]: each row, then the rows
  const spatialSum = (t: tf.Tensor) => t.reshape([N, H, W, C]).sum(2).sum(1);
  const groupMean = (t: tf.Tensor) => t.reshape([N, groups, Cg]).sum(2).div(M); // per-channel sums [N, C] → [N, G]
  const perChannel = (t: tf.Tensor) => t.reshape([N, groups, 1]).tile([1, 1, Cg]).reshape([N, 1, C]); // [N, G] → [N, 1, C]
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const x3 = x.reshape([N, S, C]);
    const xc = x3.sub(perChannel(groupMean(spatialSum(x)))); // [N, S, C], centred per group
    const R = perChannel(groupMean(spatialSum(xc.square())).add(eps).rsqrt()); // [N, 1, C]: 1/σ of the channel's group
    save([xc, R, g]);
    return {
      value: xc.mul(R.mul(g)).add(b).reshape([N, H, W, C]), // x̂·g + b, x̂ = xc·R
      gradFunc: (dy: tf.Tensor | tf.Tensor[], [xc, R, g]: tf.Tensor[]) => {
        const dy3 = (dy as tf.Tensor).reshape([N, S, C]), r = R.reshape([N, C]);
        const d1 = spatialSum(dy3), e = spatialSum(dy3.mul(xc)); // [N, C]: Σ dy, Σ dy·xc over positions
        const m1 = perChannel(groupMean(d1.mul(g))), m2 = perChannel(groupMean(e.mul(g).mul(r))); // mean(dx̂), mean(dx̂·x̂)
        const dx = dy3.mul(R.mul(g)).sub(xc.mul(m2.mul(R.square()))).sub(m1.mul(R)); // [N, S, C]
        return [dx.reshape([N, H, W, C]), e.mul(r).sum(0), d1.sum(0)];
      },
    };
  });
  return f(x, g, b);
}

/** −1 … 1 in n steps, [n] (n ≥ 2). */
function linspace(n: number): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1)));
}

/** Softmax over H·W per channel, then the expected (x, y): x [N, H, W, C] → [N, 2C] as (x_c, y_c) pairs. */
function spatialSoftmax(x: tf.Tensor): tf.Tensor {
  const [N, H, W, C] = x.shape;
  if (x.rank !== 4 || H < 2 || W < 2) throw new Error(`spatialSoftmax: input shape [${x.shape}] is not [N, H, W, C] with H, W >= 2`);
  const a = tf.softmax(x.reshape([N, H * W, C]).transpose([0, 2, 1])).reshape([N, C, H, W]); // [N, C, H, W], sums to 1 per channel
  const ex = a.sum(2).mul(linspace(W)).sum(2, true); // [N, C, 1]: Σ_w p(w) x_w
  const ey = a.sum(3).mul(linspace(H)).sum(2, true); // [N, C, 1]
  return tf.concat([ex, ey], 2).reshape([N, 2 * C]);
}

function sliceAxis(x: tf.Tensor, axis: number, start: number, size: number): tf.Tensor {
  const begin = x.shape.map(() => 0), sz = x.shape.map(() => -1);
  begin[axis] = start;
  sz[axis] = size;
  return x.slice(begin, sz);
}

/** Ops on tf.Tensors (with gradients). */
export const tfOps: Ops<tf.Tensor> = {
  param: (v) => v,
  constant: (data, shape) => tf.tensor(Float32Array.from(data), shape),
  linear,
  matmul: (a, b, transposeB = false) => tf.matMul(a, b, false, transposeB),
  headSplit,
  add: (a, b) => a.add(b),
  sub: (a, b) => a.sub(b),
  mul: (a, b) => a.mul(b),
  relu: (x) => tf.relu(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  softplus: (x) => tf.softplus(x),
  softmax: (x) => tf.softmax(x, -1),
  clip: (x, lo, hi) => tf.where(tf.isFinite(x), x.clipByValue(lo, hi), tf.fill(x.shape, NaN)),
  layerNorm(x, g, b, eps) {
    const xc = x.sub(x.mean(-1, true));
    return xc.mul(xc.square().mean(-1, true).add(eps).rsqrt()).mul(g).add(b);
  },
  groupNorm(x, g, b, groups, eps) {
    const [N, T, C] = x.shape;
    const xg = x.reshape([N, T, groups, C / groups]);
    const { mean, variance } = tf.moments(xg, [1, 3], true);
    return xg.sub(mean).mul(variance.add(eps).rsqrt()).reshape([N, T, C]).mul(g).add(b);
  },
  groupNorm2d,
  conv2d,
  spatialSoftmax,
  reshape: (x, shape) => x.reshape(shape.map((d, i) => (d === 0 ? x.shape[i] : d))),
  transpose: (x, perm) => x.transpose(perm),
  concat: (xs, axis) => tf.concat(xs, axis),
  slice(x, axis, start, end) {
    const n = x.shape[axis], s = start < 0 ? n + start : start, e = end < 0 ? n + end : Math.min(end, n);
    return sliceAxis(x, axis, s, e - s);
  },
  last: (x, axis, n) => (x.shape[axis] <= n ? x : sliceAxis(x, axis, x.shape[axis] - n, n)),
  expandDims: (x, axis) => x.expandDims(axis),
  squeeze: (x, axis) => x.squeeze([axis]),
  conv1d,
  convTranspose1d,
  sinusoid,
  alibi,
};
