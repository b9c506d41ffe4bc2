/**
 * NaN must stay NaN on every backend. The wasm backend's ClipByValue returns the lower bound for NaN and its
 * _FusedMatMul with a relu returns 0 for a NaN (the cpu backend gives NaN for both). Samplers end with a clip and
 * layers use fused relus, so a NaN that reached a model on wasm left it as a finite, wrong action that no
 * non-finite guard could see. These wrappers restore NaN where the input was NaN. Registered before the speed
 * patches (wasm-patches.ts, train-kernels.ts), which then wrap these.
 */
import * as tf from "@tensorflow/tfjs";

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> };
type KernelFunc = (args: KernelArgs) => tf.TensorInfo;
interface WasmLike {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

let applied = false;

function wrap(name: string, make: (inner: KernelFunc) => KernelFunc): void {
  const original = tf.getKernel(name, "wasm");
  if (!original) return;
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc as unknown as KernelFunc) as unknown as tf.KernelFunc });
}

/** Wrap the wasm kernels that turn NaN into a number. Idempotent; a no-op without the wasm backend. */
export function applyNanKernels(): void {
  if (applied || !tf.getKernel("ClipByValue", "wasm")) return;
  applied = true;
  wrap("ClipByValue", (inner) => (args) => {
    const out = inner(args);
    if (args.inputs.x.dtype !== "float32") return out;
    const backend = args.backend as WasmLike;
    const x = backend.typedArrayFromHeap(args.inputs.x), y = backend.typedArrayFromHeap(out);
    for (let i = 0; i < x.length; i++) if (x[i] !== x[i]) y[i] = NaN;
    return out;
  });
  // relu and relu6 run as the linear matmul plus an elementwise max in place: NaN < 0 is false, so NaN stays
  wrap("_FusedMatMul", (inner) => (args) => {
    const act = (args.attrs as { activation?: string }).activation;
    if (act !== "relu" && act !== "relu6") return inner(args);
    const out = inner({ ...args, attrs: { ...args.attrs, activation: "linear" } });
    const y = (args.backend as WasmLike).typedArrayFromHeap(out);
    for (let i = 0; i < y.length; i++) {
      const v = y[i];
      if (v < 0) y[i] = 0;
      else if (act === "relu6" && v > 6) y[i] = 6;
    }
    return out;
  });
}
