/**
 * 2-D convolution on tfjs tensors, with gradients on the wasm backend. tfjs-backend-wasm 4.22 runs Conv2D (XNNPACK)
 * but registers no `Conv2DBackpropFilter`, so `tf.grad` through `tf.conv2d` fails there ("Kernel
 * 'Conv2DBackpropFilter' not registered for backend 'wasm'"); its `Conv2DBackpropInput` is a scalar C++ loop. This
 * file registers both as im2col + one XNNPACK matmul per chunk of images (the wasm BatchMatMul kernel, called
 * directly), the im2col / col2im copies in JavaScript over the wasm heap:
 *   dW [kh·kw·cIn, cOut] = colsᵀ · dy      (colsᵀ built directly: the kernel packs its right operand, keep it small)
 *   dx                   = col2im(dy · Wᵀ)   (stride 1: the backend's Conv2D of dy with the flipped filter)
 * The forward pass stays the backend's own Conv2D. Other backends (cpu, tfjs-node) keep their native kernels.
 * Padding is symmetric, (k − 1)/2 for "same" (PyTorch's padding = k // 2, ONNX's explicit pads), so the traced ONNX
 * Conv needs no input size: see `convPad`.
 */
import * as tf from "@tensorflow/tfjs";
import { convPad, type Padding } from "./ops.ts";

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> };
type KernelFunc = (args: KernelArgs) => tf.TensorInfo;
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(id: object): boolean;
}
type Shape4 = [number, number, number, number];

/** Largest im2col block, in floats (8 Mi = 32 MB): a batch is processed in chunks of whole images below it. Tests lower it. */
export const convGradChunk = { floats: 8 * 2 ** 20 };

interface Geometry {
  N: number; H: number; W: number; C: number; Ho: number; Wo: number; Co: number;
  kh: number; kw: number; sh: number; sw: number; top: number; left: number; bottom: number; right: number;
}

function geometry(info: tf.backend_util.Conv2DInfo): Geometry {
  if (info.dataFormat !== "channelsLast") throw new Error(`conv2d gradient (wasm): data format ${info.dataFormat} is not supported (valid: NHWC)`);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) throw new Error("conv2d gradient (wasm): dilations are not supported");
  return {
    N: info.batchSize, H: info.inHeight, W: info.inWidth, C: info.inChannels, Ho: info.outHeight, Wo: info.outWidth, Co: info.outChannels,
    kh: info.filterHeight, kw: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth, top: info.padInfo.top, left: info.padInfo.left,
    bottom: info.padInfo.bottom, right: info.padInfo.right,
  };
}

/**
 * im2col, transposed: colsT [kh·kw·C, P] (row (i, j, c), column p = (n, oh, ow) over images n0 … n1−1) of
 * img [N, H, W, C], zero where the tap falls in the padding. Rows are written in order.
 */
function im2colT(img: Float32Array, colsT: Float32Array, n0: number, n1: number, g: Geometry): void {
  const { H, W, C, Ho, Wo, kh, kw, sh, sw, top, left } = g, P = (n1 - n0) * Ho * Wo;
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const lo = Math.max(0, Math.ceil((left - j) / sw)), hi = Math.min(Wo, Math.floor((W - 1 + left - j) / sw) + 1); // ow inside the image
      for (let c = 0; c < C; c++) {
        let p = ((i * kw + j) * C + c) * P;
        for (let n = n0; n < n1; n++)
          for (let oh = 0; oh < Ho; oh++) {
            const ih = oh * sh + i - top;
            if (ih < 0 || ih >= H) {
              colsT.fill(0, p, p + Wo);
              p += Wo;
              continue;
            }
            const at = ((n * H + ih) * W + j - left) * C + c, step = sw * C;
            for (let ow = 0; ow < lo; ow++) colsT[p++] = 0;
            for (let ow = lo; ow < hi; ow++) colsT[p++] = img[at + ow * step];
            for (let ow = hi; ow < Wo; ow++) colsT[p++] = 0;
          }
      }
    }
}

/** col2im, accumulating: img [N, H, W, C] += each row (n, oh, ow) of cols [P, kh·kw·C] at its taps inside the image. */
function col2imAdd(cols: Float32Array, img: Float32Array, n0: number, n1: number, g: Geometry): void {
  const { H, W, C, Ho, Wo, kh, kw, sh, sw, top, left } = g, K = kh * kw * C;
  let row = 0;
  for (let n = n0; n < n1; n++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++, row += K)
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh + i - top;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw + j - left;
            if (iw < 0 || iw >= W) continue;
            const s = ((n * H + ih) * W + iw) * C, o = row + (i * kw + j) * C;
            for (let c = 0; c < C; c++) img[s + c] += cols[o + c];
          }
        }
}

/** a [1, M, K] · b [1, K, N] by the backend's BatchMatMul (XNNPACK; b must be a fresh tensor: XNNPACK caches it by id). */
function matmul(backend: unknown, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const k = tf.getKernel("BatchMatMul", "wasm")!.kernelFunc as unknown as KernelFunc;
  return k({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });
}

function convInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>): Geometry {
  const a = attrs as { strides: number | [number, number]; pad: "same" | "valid" | number; dataFormat: "NHWC" | "NCHW"; dimRoundingMode?: "floor" | "round" | "ceil" };
  const fmt = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
  return geometry(tf.backend_util.computeConv2DInfo(xShape as Shape4, filterShape as Shape4, a.strides, 1, a.pad, a.dimRoundingMode, false, fmt));
}

/** Conv2DBackpropFilter: x [N, H, W, cIn], dy [N, Ho, Wo, cOut] → dW [kh, kw, cIn, cOut] = Σ over chunks of colsT · dy. */
function backpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs, be = args.backend as WasmBackend;
  const filterShape = (args.attrs as { filterShape: number[] }).filterShape;
  const g = convInfo(x.shape, filterShape, args.attrs!), { N, Co } = g, K = g.kh * g.kw * g.C, per = g.Ho * g.Wo;
  const nb = Math.max(1, Math.min(N, Math.floor(convGradChunk.floats / (per * K))));
  const dw = be.makeOutput(filterShape, "float32");
  be.typedArrayFromHeap(dw).fill(0);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const n1 = Math.min(N, n0 + nb), P = (n1 - n0) * per;
    const colsT = be.makeOutput([1, K, P], "float32"), dyc = be.makeOutput([1, P, Co], "float32"); // dyc: a fresh b operand
    // views after every allocation: growing the heap detaches older ones
    im2colT(be.typedArrayFromHeap(x), be.typedArrayFromHeap(colsT), n0, n1, g);
    be.typedArrayFromHeap(dyc).set(be.typedArrayFromHeap(dy).subarray(n0 * per * Co, n1 * per * Co));
    const part = matmul(be, colsT, dyc); // [1, K, cOut]
    const o = be.typedArrayFromHeap(part), acc = be.typedArrayFromHeap(dw);
    for (let i = 0; i < o.length; i++) acc[i] += o[i];
    for (const t of [colsT, dyc, part]) be.disposeData(t.dataId);
  }
  return dw;
}

/**
 * Stride 1: dx = conv2d(dy, W flipped in space with cIn ↔ cOut, padding k − 1 − pad) by the backend's own Conv2D
 * (XNNPACK): the transposed convolution of a stride-1 convolution is a convolution.
 */
function backpropInputStride1(be: WasmBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, g: Geometry): tf.TensorInfo {
  const { kh, kw, C, Co } = g;
  const flipped = be.makeOutput([kh, kw, Co, C], "float32"); // fresh: XNNPACK caches the packed filter by tensor id
  const f = be.typedArrayFromHeap(filter), w = be.typedArrayFromHeap(flipped);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let ci = 0; ci < C; ci++)
        for (let co = 0; co < Co; co++) w[((i * kw + j) * Co + co) * C + ci] = f[(((kh - 1 - i) * kw + kw - 1 - j) * C + ci) * Co + co];
  const pad = [[0, 0], [kh - 1 - g.top, kh - 1 - g.bottom], [kw - 1 - g.left, kw - 1 - g.right], [0, 0]];
  const conv = tf.getKernel("Conv2D", "wasm")!.kernelFunc as unknown as KernelFunc;
  const dx = conv({ inputs: { x: dy, filter: flipped }, backend: be, attrs: { strides: 1, pad, dataFormat: "NHWC", dilations: 1 } });
  be.disposeData(flipped.dataId);
  return dx;
}

/** Conv2DBackpropInput: dy [N, Ho, Wo, cOut], filter [kh, kw, cIn, cOut] → dx [N, H, W, cIn] (attrs.inputShape). */
function backpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs, be = args.backend as WasmBackend;
  const inputShape = (args.attrs as { inputShape: number[] }).inputShape;
  const g = convInfo(inputShape, filter.shape, args.attrs!), { N, Co } = g, K = g.kh * g.kw * g.C, per = g.Ho * g.Wo;
  if (g.sh === 1 && g.sw === 1) return backpropInputStride1(be, dy, filter, g);
  const nb = Math.max(1, Math.min(N, Math.floor(convGradChunk.floats / (per * K))));
  const wT = be.makeOutput([1, Co, K], "float32"), dx = be.makeOutput(inputShape, "float32");
  const f = be.typedArrayFromHeap(filter), w = be.typedArrayFromHeap(wT);
  for (let k = 0; k < K; k++) for (let c = 0; c < Co; c++) w[c * K + k] = f[k * Co + c];
  be.typedArrayFromHeap(dx).fill(0);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const n1 = Math.min(N, n0 + nb), P = (n1 - n0) * per;
    let a: tf.TensorInfo = { dataId: dy.dataId, shape: [1, P, Co], dtype: "float32" }; // the whole batch: dy itself
    if (nb < N) {
      a = be.makeOutput([1, P, Co], "float32");
      be.typedArrayFromHeap(a).set(be.typedArrayFromHeap(dy).subarray(n0 * per * Co, n1 * per * Co));
    }
    const cols = matmul(be, a, wT); // [1, P, K]
    col2imAdd(be.typedArrayFromHeap(cols), be.typedArrayFromHeap(dx), n0, n1, g);
    be.disposeData(cols.dataId);
    if (a.dataId !== dy.dataId) be.disposeData(a.dataId);
  }
  be.disposeData(wT.dataId);
  return dx;
}

const stock: tf.KernelConfig[] = [];
let registered = false;

/**
 * Register the im2col gradient kernels on the wasm backend (Conv2DBackpropFilter, which it lacks, and
 * Conv2DBackpropInput in place of its scalar loop). Idempotent; a no-op until the wasm backend is loaded, and for
 * other backends. `conv2d` below calls it, so code using Ops never needs to.
 */
export function registerConvGradients(): void {
  if (registered || !tf.getKernel("Conv2D", "wasm")) return;
  for (const [name, fn] of [["Conv2DBackpropFilter", backpropFilter], ["Conv2DBackpropInput", backpropInput]] as const) {
    const old = tf.getKernel(name, "wasm");
    if (old) {
      stock.push(old);
      tf.unregisterKernel(name, "wasm");
    }
    tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: fn as unknown as tf.KernelFunc });
  }
  registered = true;
}

/** Restore the stock wasm kernels (Conv2DBackpropFilter absent again): benchmarks time both. */
export function unregisterConvGradients(): void {
  if (!registered) return;
  for (const name of ["Conv2DBackpropFilter", "Conv2DBackpropInput"]) tf.unregisterKernel(name, "wasm");
  for (const k of stock.splice(0)) tf.registerKernel(k);
  registered = false;
}

/**
 * y = conv2d(x, w) + b on tfjs: x [N, H, W, cIn], w [kh, kw, cIn, cOut], b [cOut] or null → [N, Ho, Wo, cOut] with
 * Ho = ⌊(H + 2·pad − kh)/stride⌋ + 1 (pad from `convPad`). Differentiable on every backend (see the top).
 * @throws Error for an even kernel with "same", or when x is not rank 4 or its channels differ from w's.
 */
export function conv2d(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null, stride: number, padding: Padding): tf.Tensor {
  registerConvGradients();
  const [kh, kw, cIn] = w.shape;
  if (x.rank !== 4 || x.shape[3] !== cIn) throw new Error(`conv2d: input shape [${x.shape}] is not [N, H, W, ${cIn}] (filter [${w.shape}])`);
  if (kh !== kw) throw new Error(`conv2d: square kernels only (filter [${w.shape}])`);
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, convPad(kh, padding));
  return b ? y.add(b) : y;
}
