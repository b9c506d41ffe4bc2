/**
 * ONNX Runtime for Node (onnxruntime-node 1.30, CPU), run SYNCHRONOUSLY. Why not the public API: its
 * `session.run()` wraps the native binding's synchronous run in setImmediate and returns a Promise, while the
 * control loop's virtual clock needs `sampleChunk` to return its chunk (and an encoder step inside `observe`
 * cannot be awaited). The binding is the package's own "simple synchronized inference session" (its
 * dist/binding.d.ts); the version is pinned in package.json and checked here.
 */
import { createRequire } from "node:module";
import * as ort from "onnxruntime-node";
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

let bindingModule: Binding | null = null;
function binding(): Binding {
  if (bindingModule) return bindingModule;
  const v = ort.env.versions.node;
  if (v !== ORT_NODE_VERSION) throw new ScdError(`onnxruntime-node ${v} is installed; this scd runs its synchronous session of ${ORT_NODE_VERSION} (npm ci restores it)`);
  bindingModule = require("onnxruntime-node/dist/binding.js") as Binding;
  return bindingModule;
}

const ELEM: Record<number, IOMeta["dtype"]> = { 1: "float32", 7: "int64", 11: "float64" };

/** Session options for control: one thread (the loop owns the other core), every graph optimization. */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" };

/** Load an ONNX model from bytes. Throws (a plain Error with ORT's message) when the model is invalid. */
export function nodeRunner(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions = SESSION_OPTIONS): GraphRunner {
  const b = binding();
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
      const t: Record<string, ort.Tensor> = {};
      for (const [k, f] of Object.entries(feeds)) t[k] = new ort.Tensor(f.data instanceof Float64Array ? "float64" : "float32", f.data, f.dims);
      const r = s.run(t, fetches, {});
      const out: Record<string, Feed> = {};
      for (const [k, v] of Object.entries(r)) out[k] = { data: v.data as Float32Array, dims: v.dims };
      return out;
    },
    dispose: () => s.dispose(),
  };
}
