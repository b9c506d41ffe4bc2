/**
 * Two fixes for @tensorflow/tfjs-backend-wasm, measured on this project's machines:
 * 1. BatchMatMul / _FusedMatMul with transpose flags run 5-30x slower than an explicit Transpose followed by a
 *    plain matmul. Backprop always uses the flags, so we wrap both kernels.
 * 2. The backend has no UnsortedSegmentSum kernel, which is the gradient of gather (embeddings). We add one.
 */
import * as tf from "@tensorflow/tfjs";

type KernelFunc = (args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }) => tf.TensorInfo | tf.TensorInfo[];
interface WasmLike {
  disposeData(dataId: object): boolean;
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: ArrayLike<number>): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

let applied = false;
const originals: tf.KernelConfig[] = [];
export function wasmPatchesApplied(): boolean {
  return applied;
}

/** Swap the last two axes with the backend's own Transpose kernel. */
function transposeLast2(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  const transpose = tf.getKernel("Transpose", "wasm")!.kernelFunc as unknown as KernelFunc;
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

function wrapTransposeFlags(kernelName: string): void {
  const original = tf.getKernel(kernelName, "wasm");
  if (!original) return;
  originals.push(original);
  const inner = original.kernelFunc as unknown as KernelFunc;
  tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({
    ...original,
    kernelFunc: ((args: Parameters<KernelFunc>[0]) => {
      const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
      if (!attrs.transposeA && !attrs.transposeB) return inner(args);
      const backend = args.backend as WasmLike;
      const a = attrs.transposeA ? transposeLast2(args.inputs.a, backend) : args.inputs.a;
      const b = attrs.transposeB ? transposeLast2(args.inputs.b, backend) : args.inputs.b;
      const out = inner({ ...args, inputs: { ...args.inputs, a, b }, attrs: { ...attrs, transposeA: false, transposeB: false } });
      if (a !== args.inputs.a) backend.disposeData(a.dataId);
      if (b !== args.inputs.b) backend.disposeData(b.dataId);
      return out;
    }) as unknown as tf.KernelFunc,
  });
}

/** out[s, ...] = sum of x[i, ...] over rows i with segmentIds[i] == s (segmentIds is rank-1 over x's first axis). */
function unsortedSegmentSum(args: Parameters<KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as WasmLike;
  const { x, segmentIds } = args.inputs;
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  if (segmentIds.shape.length !== 1) throw new Error(`UnsortedSegmentSum (wasm patch): segmentIds must be rank 1, got shape [${segmentIds.shape}]`);
  const xs = backend.readSync(x.dataId);
  const ids = backend.readSync(segmentIds.dataId);
  const inner = x.shape.slice(1).reduce((p, n) => p * n, 1);
  const out = new Float32Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue; // TF semantics: out-of-range ids are dropped
    const src = i * inner, dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += xs[src + j];
  }
  const result = backend.makeOutput([numSegments, ...x.shape.slice(1)], "float32");
  backend.typedArrayFromHeap(result).set(out);
  return result;
}

/**
 * Apply the patches to the registered wasm kernels. Idempotent. `matmul: false` keeps the stock matmul (the
 * benchmark's "unpatched" case, which still needs the segment-sum kernel to run backprop through gather at all).
 */
export function applyWasmPatches(opts: { matmul?: boolean } = {}): void {
  if (applied) return;
  if (opts.matmul !== false) {
    wrapTransposeFlags("BatchMatMul");
    wrapTransposeFlags("_FusedMatMul");
  }
  if (!tf.getKernel("UnsortedSegmentSum", "wasm")) {
    originals.push({ kernelName: "UnsortedSegmentSum", backendName: "wasm", kernelFunc: undefined as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: "UnsortedSegmentSum", backendName: "wasm", kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc });
  }
  applied = true;
}

/** Restore the stock kernels (the benchmark compares patched and unpatched wasm in one process). */
export function removeWasmPatches(): void {
  if (!applied) return;
  for (const k of originals.splice(0)) {
    tf.unregisterKernel(k.kernelName, "wasm");
    if ((k.kernelFunc as unknown) !== undefined) tf.registerKernel(k);
  }
  applied = false;
}
