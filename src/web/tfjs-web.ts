/**
 * TensorFlow.js in the page (browser-safe): the wasm backend (SIMD, one thread — the page's main thread also runs
 * the simulator and the loop, as with ONNX Runtime Web) or the plain-JS cpu backend, with the same kernel fixes as
 * in Node (src/backend: NaN stays NaN on wasm; transpose-flag matmuls as transpose + matmul).
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { applyNanKernels } from "../backend/nan-kernels.ts";
import { applyWasmPatches } from "../backend/wasm-patches.ts";
import { ScdError } from "../errors.ts";

/** The tfjs backends the page offers: wasm (SIMD, one thread) and the plain-JS cpu backend. */
export const TFJS_WEB_BACKENDS = ["wasm", "cpu"] as const;
/** A TensorFlow.js backend the page can use: "wasm" or "cpu". */
export type TfjsWebBackend = (typeof TFJS_WEB_BACKENDS)[number];

/** What {@link useTfjsBackend} started: the backend, the TensorFlow.js version and whether SIMD is in use. */
export interface TfjsWebInfo {
  backend: TfjsWebBackend;
  tfjsVersion: string;
  /** wasm only: SIMD in use (null on cpu). */
  simd: boolean | null;
}

let wasmPathSet = false;

/**
 * Make `name` the current tfjs backend. `wasmBase` (a URL ending in "/") serves tfjs-backend-wasm's .wasm files
 * (build.ts copies them to tfjs/). Tensors made on another backend stay there: build policies after switching.
 * @throws ScdError when the backend cannot start (e.g. no WebAssembly).
 */
export async function useTfjsBackend(name: TfjsWebBackend, wasmBase: string): Promise<TfjsWebInfo> {
  if (name === "wasm" && !wasmPathSet) {
    setWasmPaths(wasmBase);
    // one thread: threads would compete with the simulator and the loop on the main thread's core budget
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasmPathSet = true;
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (e) {
    throw new ScdError(`TensorFlow.js ${name} backend failed to start: ${(e as Error).message}`);
  }
  if (!ok || tf.getBackend() !== name) throw new ScdError(`TensorFlow.js ${name} backend failed to start`);
  if (name === "wasm") {
    applyNanKernels();
    applyWasmPatches();
  }
  tf.enableProdMode();
  return { backend: name, tfjsVersion: tf.version.tfjs, simd: name === "wasm" ? await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT") as boolean : null };
}

/** Tensors alive in tfjs now (the page shows it; it returns to its level after a policy is disposed). */
export function tfjsTensorCount(): number {
  return tf.engine().state.numTensors; // not tf.memory(): that asks the backend, which may be starting
}
