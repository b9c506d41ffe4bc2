/**
 * Backend selection: tfjs-node-gpu, then tfjs-node, then wasm (patched), then cpu. `--backend` / SCD_BACKEND
 * override it. The native backends are optional peers: detected at run time, never required.
 */
import * as tf from "@tensorflow/tfjs";
import { createRequire } from "node:module";
import { ScdError } from "../errors.ts";
import { applyWasmPatches, wasmPatchesApplied } from "./wasm-patches.ts";
import { applyNanKernels } from "./nan-kernels.ts";
import { applyTrainKernels } from "./train-kernels.ts";
import { setLeanBackprop, guardWasmHeap } from "./memory.ts";

export const BACKENDS = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];
const ALIASES: Record<string, BackendName> = {
  "tfjs-node-gpu": "tensorflow-gpu", gpu: "tensorflow-gpu", "tensorflow-gpu": "tensorflow-gpu",
  "tfjs-node": "tensorflow", node: "tensorflow", tensorflow: "tensorflow",
  wasm: "wasm", cpu: "cpu", "wasm-unpatched": "wasm",
};

/** What {@link initBackend} chose and why: the backend in use, versions, SIMD, and the backends it skipped. */
export interface BackendReport {
  backend: string;
  requested: string | null;
  tfjsVersion: string;
  wasmSimd: boolean | null;
  wasmPatches: boolean;
  skipped: { backend: BackendName; reason: string }[];
}

let report: BackendReport | null = null;

async function tryNative(pkg: string): Promise<string | null> {
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional peer.
    const name = pkg;
    await import(name);
    return null;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    return /Cannot find (package|module)/.test(msg) ? `${pkg} is not installed (optional peer dependency)` : `${pkg} failed to load: ${msg.split("\n")[0]}`;
  }
}

async function tryWasm(patch: boolean): Promise<string | null> {
  try {
    await import("@tensorflow/tfjs-backend-wasm");
    if (!(await tf.setBackend("wasm"))) return "wasm backend failed to initialise";
    await tf.ready();
    applyNanKernels(); // correctness, not speed: always, and before the speed patches wrap the same kernels
    guardWasmHeap(); // a failed allocation throws instead of corrupting the module
    if (patch) {
      applyWasmPatches();
      applyTrainKernels(); // streaming prefix-axis Sum, copy-free Identity: same values, a faster training step
    }
    return null;
  } catch (e) {
    return `wasm failed: ${(e as Error).message}`;
  }
}

/** Initialise a backend once per process. `requested` (flag or SCD_BACKEND) forces one; it errors if unavailable. */
export async function initBackend(requested: string | null = process.env.SCD_BACKEND ?? null): Promise<BackendReport> {
  if (report) {
    // something switched backends since (tests share a process): make the initialised one current again
    if (tf.getBackend() !== report.backend) await tf.setBackend(report.backend);
    return report;
  }
  let want: BackendName | null = null;
  if (requested) {
    want = ALIASES[requested] ?? null;
    if (!want) throw new ScdError(`unknown backend "${requested}" (from --backend or SCD_BACKEND); valid: ${Object.keys(ALIASES).join(", ")}`);
  }
  quietCpuBackend();
  const skipped: BackendReport["skipped"] = [];
  const order = want ? [want] : [...BACKENDS];
  for (const name of order) {
    let reason: string | null;
    if (name === "tensorflow-gpu") reason = await tryNative("@tensorflow/tfjs-node-gpu");
    else if (name === "tensorflow") reason = await tryNative("@tensorflow/tfjs-node");
    else if (name === "wasm") reason = await tryWasm(requested !== "wasm-unpatched");
    else reason = (await tf.setBackend("cpu")) ? null : "cpu backend failed";
    if (reason === null) {
      if (name === "tensorflow-gpu" || name === "tensorflow") await tf.setBackend("tensorflow");
      await tf.ready();
      break;
    }
    skipped.push({ backend: name, reason });
    if (want) throw new ScdError(`backend "${requested}" is not available: ${reason}`);
  }
  tf.enableProdMode(); // skips per-op NaN checks and debug bookkeeping
  setLeanBackprop(true); // a training step holds its activations once, not twice, and frees them when it fails
  const isWasm = tf.getBackend() === "wasm";
  report = {
    backend: tf.getBackend(),
    requested,
    tfjsVersion: tf.version.tfjs,
    wasmSimd: isWasm ? tf.env().getBool("WASM_HAS_SIMD_SUPPORT") : null,
    wasmPatches: isWasm && wasmPatchesApplied(),
    skipped,
  };
  return report;
}

export function packageVersion(): string {
  const require = createRequire(import.meta.url);
  // by the package's own name (its "exports" lists package.json): the same from src/ and from the compiled dist/src/
  return (require("scd-policy/package.json") as { version: string }).version;
}

/** The cpu backend prints a banner advertising tfjs-node on first use; we already explain backends in `scd info`. */
export function quietCpuBackend(): void {
  const cpu = tf.findBackend("cpu") as unknown as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}
