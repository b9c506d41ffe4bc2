/**
 * Two more wasm kernel fixes for training, measured on the SCD train step (batch 64):
 * 1. Sum over LEADING axes (every bias gradient: dy [N, dOut] summed over N) makes the stock kernel transpose the
 *    input first, then reduce the inner axis: 23x slower than an inner-axis sum. A streaming row accumulation
 *    needs no transpose.
 * 2. Identity (the tape passes gradients through it) copies its input; sharing the data with a reference count,
 *    as the cpu backend does, is free.
 * Both are registered next to the existing patches (wasm-patches.ts) and checked against the cpu backend.
 */
import * as tf from "@tensorflow/tfjs";

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> };
type KernelFunc = (args: KernelArgs) => tf.TensorInfo;
interface WasmBackendLike {
  dataIdMap: { get(id: object): { refCount: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(id: object): boolean;
}

const saved: tf.KernelConfig[] = [];
let applied = false;

function replace(name: string, make: (inner: KernelFunc) => KernelFunc): void {
  const original = tf.getKernel(name, "wasm");
  if (!original) return;
  saved.push(original);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc as unknown as KernelFunc) as unknown as tf.KernelFunc });
}

/**
 * Sum over a prefix of axes [0 … k−1] (k < rank) of a float32 tensor, as a row-accumulating loop over the wasm heap
 * (x viewed as [R, M]): streaming, no transpose. (A matmul ones[1, R] @ x would run in XNNPACK, but the backend
 * caches packed right-hand operands by tensor id, and the same gradient is used elsewhere with another shape.)
 */
function prefixSum(inner: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
    const isPrefix = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (!isPrefix || x.dtype !== "float32") return inner(args);
    const backend = args.backend as WasmBackendLike;
    const R = x.shape.slice(0, axes.length).reduce((p, n) => p * n, 1);
    const rest = x.shape.slice(axes.length);
    const M = rest.reduce((p, n) => p * n, 1);
    const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...rest] : rest, "float32");
    const src = backend.typedArrayFromHeap(x), dst = backend.typedArrayFromHeap(out); // views: read after makeOutput (the heap may grow)
    dst.fill(0);
    for (let r = 0; r < R; r++) {
      const o = r * M;
      for (let j = 0; j < M; j++) dst[j] += src[o + j];
    }
    return out;
  };
}

function sharedIdentity(inner: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs;
    const data = (args.backend as WasmBackendLike).dataIdMap.get(x.dataId);
    if (!data || x.dtype === "string") return inner(args);
    data.refCount++;
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** Register the fixes on the wasm backend (no-op elsewhere or when applied). Idempotent. */
export function applyTrainKernels(): void {
  if (applied || !tf.getKernel("Sum", "wasm")) return; // wasm kernels register on import of the backend
  replace("Sum", prefixSum);
  replace("Identity", sharedIdentity);
  applied = true;
}

/** Restore the stock kernels (the benchmark times the step both ways in one process). */
export function removeTrainKernels(): void {
  if (!applied) return;
  for (const k of saved.splice(0)) {
    tf.unregisterKernel(k.kernelName, "wasm");
    tf.registerKernel(k);
  }
  applied = false;
}

export function trainKernelsApplied(): boolean {
  return applied;
}
