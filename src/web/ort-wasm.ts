/**
 * ONNX Runtime Web's wasm backend (onnxruntime-web 1.30.0, its ort-wasm-simd-threaded module on one thread), run
 * SYNCHRONOUSLY. Why not the public `InferenceSession`: its `run()` returns a Promise, while the control loop's
 * virtual clock needs `sampleChunk` to return its chunk and the SCD encoder step runs inside `observe`. The wasm
 * module's C API (_OrtCreateSession, _OrtRun, ...) is synchronous in this build (no JSEP / asyncify); this file
 * calls it the way onnxruntime-web's own wasm-core-impl does, for CPU float32/float64 tensors only.
 * Browser-safe: no node: imports; the caller loads the module factory and the .wasm bytes (page or Node test).
 */
import type { Feed, GraphRunner, IOMeta } from "../deploy/runtime.ts";

/** The onnxruntime-web version whose wasm module this runner calls (its C API differs between versions). */
export const ORT_WEB_VERSION = "1.30.0";

/** The emscripten module's exports this runner uses (names as in onnxruntime-web's wasm-core-impl). */
export interface OrtWasmModule {
  PTR_SIZE: number;
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  /** Allocate `n` bytes on the wasm heap; returns the pointer. */
  _malloc(n: number): number;
  /** Free a pointer from `_malloc`. */
  _free(p: number): void;
  /** The stack pointer, to restore after stack allocations. */
  stackSave(): number;
  /** Restore the stack pointer saved by `stackSave`. */
  stackRestore(p: number): void;
  /** Allocate `n` bytes on the stack; returns the pointer. */
  stackAlloc(n: number): number;
  /** Read a value of a C type ("i32", "*", …) at `p`. */
  getValue(p: number, type: string): number;
  /** Write a value of a C type at `p`. */
  setValue(p: number, v: number, type: string): void;
  /** The NUL-terminated UTF-8 string at `p`. */
  UTF8ToString(p: number): string;
  /** Bytes of `s` in UTF-8, without the terminating NUL. */
  lengthBytesUTF8(s: string): number;
  /** Write `s` as NUL-terminated UTF-8 into the `n` bytes at `p`. */
  stringToUTF8(s: string, p: number, n: number): void;
  /** Initialize ONNX Runtime with a thread count and log level; 0 on success. */
  _OrtInit(threads: number, logLevel: number): number;
  /** Write the last error's code and message pointer to `codeP` and `msgP`. */
  _OrtGetLastError(codeP: number, msgP: number): void;
  /** Session options (graph optimization level, memory arena and pattern, execution mode, logging); returns the handle. */
  _OrtCreateSessionOptions(opt: number, arena: boolean, memPattern: boolean, mode: number, profiling: boolean, prefix: number, logId: number, sev: number, verb: number, optPath: number): number;
  /** Release session options. */
  _OrtReleaseSessionOptions(h: number): number;
  /** A session from the ONNX model bytes at `data`; returns the handle. */
  _OrtCreateSession(data: number, len: number, opts: number): number;
  /** Release a session. */
  _OrtReleaseSession(h: number): number;
  /** Write a session's input and output counts to `inP` and `outP`; 0 on success. */
  _OrtGetInputOutputCount(h: number, inP: number, outP: number): number;
  /** Write the name and metadata (element type, shape) of input or output `i` (outputs after inputs); 0 on success. */
  _OrtGetInputOutputMetadata(h: number, i: number, nameP: number, metaP: number): number;
  /** Free memory that ONNX Runtime allocated (names, metadata, dimensions). */
  _OrtFree(p: number): number;
  /** A tensor over `bytes` bytes of data at `data` with `nDims` dimensions at `dims`; returns the handle. */
  _OrtCreateTensor(type: number, data: number, bytes: number, dims: number, nDims: number, location: number): number;
  /** Write a tensor's element type, data pointer, dimensions pointer and dimension count; 0 on success. */
  _OrtGetTensorData(t: number, typeP: number, dataP: number, dimsP: number, nDimsP: number): number;
  /** Release a tensor. */
  _OrtReleaseTensor(t: number): number;
  /** Run options (log severity and verbosity, terminate flag, tag); returns the handle. */
  _OrtCreateRunOptions(sev: number, verb: number, terminate: boolean, tag: number): number;
  /** Release run options. */
  _OrtReleaseRunOptions(h: number): number;
  /** Run a session on `nIn` named input tensors; writes `nOut` output tensor handles to `outVals`; 0 on success. */
  _OrtRun(s: number, inNames: number, inVals: number, nIn: number, outNames: number, nOut: number, outVals: number, runOpts: number): number;
}
/** onnxruntime-web's `ort-wasm-simd-threaded` module factory: instantiates the module from the .wasm bytes. */
export type OrtWasmFactory = (config: { numThreads: number; wasmBinary: ArrayBuffer }) => Promise<OrtWasmModule>;

// ONNX TensorProto element types
const TYPES: Record<number, IOMeta["dtype"]> = { 1: "float32", 7: "int64", 11: "float64" };
const CPU = 1;

function lastError(w: OrtWasmModule, what: string): never {
  const sp = w.stackSave();
  try {
    const p = w.stackAlloc(2 * w.PTR_SIZE);
    w._OrtGetLastError(p, p + w.PTR_SIZE);
    const code = w.getValue(p, "i32"), msg = w.getValue(p + w.PTR_SIZE, "*");
    throw new Error(`${what} (ORT error ${code}: ${msg ? w.UTF8ToString(msg) : ""})`);
  } finally {
    w.stackRestore(sp);
  }
}

function ioMeta(w: OrtWasmModule, s: number, i: number): IOMeta {
  const sp = w.stackSave();
  let meta = 0;
  try {
    const p = w.stackAlloc(2 * w.PTR_SIZE);
    if (w._OrtGetInputOutputMetadata(s, i, p, p + w.PTR_SIZE) !== 0) lastError(w, "cannot read input/output metadata");
    const name = w.UTF8ToString(w.getValue(p, "*"));
    meta = w.getValue(p + w.PTR_SIZE, "*");
    const type = w.HEAP32[meta / 4];
    const n = w.HEAPU32[meta / 4 + 1];
    const shape: (number | string)[] = [];
    for (let d = 0; d < n; d++) {
      const sym = w.getValue(meta + 8 + d * w.PTR_SIZE, "*");
      shape.push(sym ? w.UTF8ToString(sym) : w.getValue(meta + 8 + (d + n) * w.PTR_SIZE, "*"));
    }
    return { name, dtype: TYPES[type] ?? `type ${type}`, shape };
  } finally {
    w.stackRestore(sp);
    if (meta) w._OrtFree(meta);
  }
}

/** Initialized ORT wasm: `runner(bytes)` loads a model into a synchronous GraphRunner. */
export interface OrtWasm {
  /** Load an ONNX model (its bytes) into a runner whose `run` is synchronous. */
  runner(bytes: Uint8Array): GraphRunner;
}

/** Instantiate the module on one thread (the page's main thread also runs the simulator and the loop). */
export async function initOrtWasm(factory: OrtWasmFactory, wasmBinary: ArrayBuffer): Promise<OrtWasm> {
  const w = await factory({ numThreads: 1, wasmBinary });
  if (w._OrtInit(1, 3) !== 0) lastError(w, "cannot initialize ONNX Runtime (wasm)");
  const str = (s: string, allocs: number[]) => {
    const n = w.lengthBytesUTF8(s) + 1, p = w._malloc(n);
    w.stringToUTF8(s, p, n);
    allocs.push(p);
    return p;
  };
  return {
    runner(bytes: Uint8Array): GraphRunner {
      const names: number[] = [];
      // graph optimization "all" (99), sequential, no profiling; warnings and up to the log
      const opts = w._OrtCreateSessionOptions(99, true, true, 0, false, 0, 0, 3, 0, 0);
      if (!opts) lastError(w, "cannot create session options");
      const model = w._malloc(bytes.byteLength);
      w.HEAPU8.set(bytes, model);
      const s = w._OrtCreateSession(model, bytes.byteLength, opts);
      w._free(model);
      w._OrtReleaseSessionOptions(opts);
      if (!s) lastError(w, "cannot create a session");
      const sp = w.stackSave();
      const cp = w.stackAlloc(2 * w.PTR_SIZE);
      if (w._OrtGetInputOutputCount(s, cp, cp + w.PTR_SIZE) !== 0) lastError(w, "cannot count inputs/outputs");
      const nIn = w.getValue(cp, "i32"), nOut = w.getValue(cp + w.PTR_SIZE, "i32");
      w.stackRestore(sp);
      const inputs = Array.from({ length: nIn }, (_, i) => ioMeta(w, s, i));
      const outputs = Array.from({ length: nOut }, (_, i) => ioMeta(w, s, nIn + i));
      const inNames = inputs.map((m) => str(m.name, names)), outNames = outputs.map((m) => str(m.name, names));
      const runOpts = w._OrtCreateRunOptions(3, 0, false, 0);
      if (!runOpts) lastError(w, "cannot create run options");
      let disposed = false;
      return {
        inputs,
        outputs,
        run(feeds: Record<string, Feed>): Record<string, Feed> {
          if (disposed) throw new Error("ONNX session used after dispose()");
          const allocs: number[] = [], tensors: number[] = [];
          const P = w.PTR_SIZE;
          const sp = w.stackSave();
          try {
            const inVals = w.stackAlloc(nIn * P), inNamesP = w.stackAlloc(nIn * P);
            const outVals = w.stackAlloc(nOut * P), outNamesP = w.stackAlloc(nOut * P);
            inputs.forEach((m, i) => {
              const f = feeds[m.name];
              if (!f) throw new Error(`input "${m.name}" not fed`);
              const type = f.data instanceof Float64Array ? 11 : 1;
              const nb = f.data.byteLength;
              const data = w._malloc(Math.max(nb, 1));
              allocs.push(data);
              w.HEAPU8.set(new Uint8Array(f.data.buffer, f.data.byteOffset, nb), data);
              const dims = w.stackAlloc(4 * Math.max(f.dims.length, 1));
              f.dims.forEach((d, j) => w.setValue(dims + j * P, d, "i32"));
              const t = w._OrtCreateTensor(type, data, nb, dims, f.dims.length, CPU);
              if (!t) lastError(w, `cannot create tensor for input "${m.name}"`);
              tensors.push(t);
              w.setValue(inVals + i * P, t, "*");
              w.setValue(inNamesP + i * P, inNames[i], "*");
            });
            for (let i = 0; i < nOut; i++) {
              w.setValue(outVals + i * P, 0, "*");
              w.setValue(outNamesP + i * P, outNames[i], "*");
            }
            if (w._OrtRun(s, inNamesP, inVals, nIn, outNamesP, nOut, outVals, runOpts) !== 0) lastError(w, "ONNX Runtime run failed");
            const out: Record<string, Feed> = {};
            for (let i = 0; i < nOut; i++) {
              const t = w.getValue(outVals + i * P, "*");
              tensors.push(t);
              const q = w.stackAlloc(4 * P);
              if (w._OrtGetTensorData(t, q, q + P, q + 2 * P, q + 3 * P) !== 0) lastError(w, `cannot read output "${outputs[i].name}"`);
              const type = w.getValue(q, "i32"), data = w.getValue(q + P, "*"), dimsP = w.getValue(q + 2 * P, "*"), nd = w.getValue(q + 3 * P, "i32");
              const dims = Array.from({ length: nd }, (_, j) => w.getValue(dimsP + j * P, "i32"));
              w._OrtFree(dimsP);
              const size = dims.reduce((a, b) => a * b, 1);
              if (type !== 1 && type !== 11) throw new Error(`output "${outputs[i].name}" has element type ${TYPES[type] ?? type}; this runner reads float32/float64`);
              const bytesPer = type === 1 ? 4 : 8;
              // copy out of the wasm heap (the tensor is released below; the heap may grow and move)
              const copy = w.HEAPU8.slice(data, data + size * bytesPer).buffer;
              out[outputs[i].name] = { data: type === 1 ? new Float32Array(copy) : new Float64Array(copy), dims };
            }
            return out;
          } finally {
            for (const t of tensors) if (t) w._OrtReleaseTensor(t);
            for (const a of allocs) w._free(a);
            w.stackRestore(sp);
          }
        },
        dispose() {
          if (disposed) return;
          disposed = true;
          w._OrtReleaseRunOptions(runOpts);
          w._OrtReleaseSession(s);
          for (const p of names) w._free(p);
        },
      };
    },
  };
}
