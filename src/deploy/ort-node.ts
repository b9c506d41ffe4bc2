/**
 * ONNX Runtime for Node (onnxruntime-node 1.30, CPU), run SYNCHRONOUSLY. Why not the public API: its
 * `session.run()` wraps the native binding's synchronous run in setImmediate and returns a Promise, while the
 * control loop's virtual clock needs `sampleChunk` to return its chunk (and an encoder step inside `observe`
 * cannot be awaited). The binding is the package's own "simple synchronized inference session" (its
 * dist/binding.d.ts); the version is pinned in package.json and checked here.
 *
 * onnxruntime-node is an OPTIONAL peer dependency (~290 MB, native, and its install script downloads a CUDA
 * provider from outside the npm registry): it is loaded on first use, so everything but running an ONNX export
 * works without it, and running one without it is one `scd: error:` line saying what to install.
 */
import { createRequire } from "node:module";
import type * as ort from "onnxruntime-node";
import { ScdError } from "../errors.ts";
import type { Feed, GraphRunner, IOMeta } from "./runtime.ts";

const require = createRequire(import.meta.url);
export const ORT_NODE_VERSION = "1.30.0";

interface RawMeta {
  name: string;
  isTensor: boolean;
  symbolicDimensions: string[];
  shape: number[];
  type: number;
}
interface RawSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: ort.InferenceSession.SessionOptions): void;
  readonly inputMetadata: RawMeta[];
  readonly outputMetadata: RawMeta[];
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>, options: ort.InferenceSession.RunOptions): Record<string, ort.Tensor>;
  dispose(): void;
}
interface Binding {
  binding: { InferenceSession: new () => RawSession };
  initOrt(): void;
}

/** What to run to get the runtime (the env var skips its CUDA download, which needs more than the npm registry). */
export const ORT_NODE_INSTALL = `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@${ORT_NODE_VERSION}`;

let bindingModule: Binding | null = null;
let ortModule: typeof ort | null = null;
/**
 * Load onnxruntime-node's binding once; call it before reading an export so a missing runtime is named as such.
 * @throws ScdError when onnxruntime-node is not installed, or is installed in another version.
 */
export function ortNodeBinding(): Binding {
  if (bindingModule) return bindingModule;
  let mod: typeof ort;
  try {
    mod = require("onnxruntime-node") as typeof ort;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== "MODULE_NOT_FOUND" || !String(err.message).includes("'onnxruntime-node'")) throw e;
    throw new ScdError(`running an ONNX export needs onnxruntime-node ${ORT_NODE_VERSION} (an optional peer dependency of scd-policy, not installed): ${ORT_NODE_INSTALL}`);
  }
  const v = mod.env.versions.node;
  if (v !== ORT_NODE_VERSION) throw new ScdError(`onnxruntime-node ${v} is installed; this scd runs its synchronous session of ${ORT_NODE_VERSION}: ${ORT_NODE_INSTALL}`);
  bindingModule = require("onnxruntime-node/dist/binding.js") as Binding;
  ortModule = mod;
  return bindingModule;
}

const ELEM: Record<number, IOMeta["dtype"]> = { 1: "float32", 7: "int64", 11: "float64" };

/** Session options for control: one thread (the loop owns the other core), every graph optimization. */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" };

/** Load an ONNX model from bytes. Throws (a plain Error with ORT's message) when the model is invalid. */
export function nodeRunner(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions = SESSION_OPTIONS): GraphRunner {
  const b = ortNodeBinding();
  b.initOrt();
  const s = new b.binding.InferenceSession();
  s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, options);
  const meta = (m: RawMeta): IOMeta => ({ name: m.name, dtype: ELEM[m.type] ?? `type ${m.type}`, shape: m.shape.map((d, i) => (d === -1 ? m.symbolicDimensions[i] : d)) });
  const inputs = s.inputMetadata.map(meta), outputs = s.outputMetadata.map(meta);
  const fetches = Object.fromEntries(outputs.map((o) => [o.name, null]));
  return {
    inputs,
    outputs,
    run(feeds: Record<string, Feed>): Record<string, Feed> {
      const rt = ortModule!; // set by ortNodeBinding() above
      const t: Record<string, ort.Tensor> = {};
      for (const [k, f] of Object.entries(feeds)) t[k] = new rt.Tensor(f.data instanceof Float64Array ? "float64" : "float32", f.data, f.dims);
      const r = s.run(t, fetches, {});
      const out: Record<string, Feed> = {};
      for (const [k, v] of Object.entries(r)) out[k] = { data: v.data as Float32Array, dims: v.dims };
      return out;
    },
    dispose: () => s.dispose(),
  };
}
