/**
 * Bounded memory for training in one process, on every backend (measured on wasm, whose heap grows to at most
 * 4 GB and never shrinks):
 * 1. tfjs-core's gradients() keeps every forward activation it saved for backprop and every intermediate gradient
 *    until the whole backward pass ends, so a step's peak is about twice its activations (entangled-diffusion's
 *    default train step at batch 64 needed > 4 GB on wasm and aborted). Here each tape node's saved tensors and
 *    output gradients are released as soon as backprop has moved past that node (the same values, computed the same
 *    way; only lifetimes change).
 * 2. tfjs-core releases those saved tensors only when gradients() succeeds: a step that throws left its whole
 *    forward pass alive (2.5 GB after an out-of-memory step), so the next model in the process ran out as well.
 * 3. The wasm backend writes a tensor at address 0 when malloc fails (no check), and a request of 2 GB or more
 *    that cannot fit wraps inside sbrk instead of failing; both corrupt the module ("memory access out of bounds"
 *    later, from any op: the bench's exit 7). Such an allocation now throws, and nothing is written.
 */
import * as tf from "@tensorflow/tfjs";

interface TapeNode {
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}
interface EngineLike {
  state: { gradientDepth: number; activeTape: TapeNode[] | null };
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: tf.Tensor[] };
}
interface WasmModule {
  _malloc(n: number): number;
  HEAPU8: Uint8Array;
}

let stockGradients: EngineLike["gradients"] | null = null;

/**
 * Free tape memory during backprop and after a failed step (1 and 2 above), engine-wide; `on = false` restores
 * tfjs's own gradients() (tests compare the two). Idempotent.
 */
export function setLeanBackprop(on: boolean): void {
  const engine = tf.engine() as unknown as EngineLike;
  if (!on) {
    if (stockGradients) engine.gradients = stockGradients;
    stockGradients = null;
    return;
  }
  if (stockGradients) return;
  const original = (stockGradients = engine.gradients);
  engine.gradients = (f, xs, dy, allowNoGradients) => {
    // higher-order gradients re-read the outer tape: only the outermost call may free it
    const outer = engine.state.gradientDepth === 0;
    let pending: Set<tf.Tensor> | null = null;
    const returned = new Map<tf.Tensor, number>(); // input gradients by how many map entries they became
    const release = () => {
      if (pending) for (const t of pending) t.dispose();
      pending = null;
    };
    const traced = () => {
      const y = f();
      // the tape is complete here; backprop visits its nodes last to first, calling all of a node's input
      // gradients before it moves to the next node, so the previous node's tensors are done with
      if (outer)
        for (const node of engine.state.activeTape ?? []) {
          const grad = node.gradient;
          if (!grad) continue;
          node.gradient = (dys) => {
            release();
            // this node's saved tensors, and its output gradients unless one is also another tensor's gradient
            const owned = new Set<tf.Tensor>(node.saved ?? []);
            for (const d of dys) if (d && d !== dy && (returned.get(d) ?? 0) < 2) owned.add(d);
            pending = owned;
            const thunks = grad(dys);
            return Object.fromEntries(Object.entries(thunks).map(([k, th]) => [k, () => {
              let dx = th();
              if (owned.has(dx)) dx = dx.clone(); // a gradient that IS one of them (dy passed through) must outlive it
              returned.set(dx, (returned.get(dx) ?? 0) + 1);
              return dx;
            }]));
          };
        }
      return y;
    };
    try {
      const r = original.call(engine, traced, xs, dy, allowNoGradients);
      release();
      return r;
    } catch (e) {
      pending = null; // disposed below with the rest of the tape, or by the failed scope
      if (outer && engine.state.activeTape) {
        for (const node of engine.state.activeTape) for (const t of node.saved ?? []) t.dispose();
        engine.state.activeTape = null;
      }
      throw e;
    }
  };
}

/** The wasm module behind the current backend, or null on another backend. */
export function wasmModule(): WasmModule | null {
  if (tf.getBackend() !== "wasm") return null;
  return (tf.backend() as unknown as { wasm?: WasmModule }).wasm ?? null;
}

/** Bytes of the wasm heap (grown, never shrunk), or null on another backend. */
export function wasmHeapBytes(): number | null {
  return wasmModule()?.HEAPU8.buffer.byteLength ?? null;
}

const guarded = new WeakSet<object>();
/** The heap's maximum in tfjs-backend-wasm's build (Emscripten's getHeapMax: 4 GB − 64 KB). */
const HEAP_MAX = 2 ** 32 - 2 ** 16;

/**
 * Make a failed wasm heap allocation throw (3 above) instead of returning address 0, which the backend would write
 * the tensor to. Idempotent; call after the wasm backend is initialised.
 */
export function guardWasmHeap(): void {
  const w = wasmModule() as (WasmModule & { _free(p: number): void }) | null;
  if (!w || guarded.has(w)) return;
  w._free(w._malloc(8)); // Emscripten's first call swaps a lazy stub for the export; wrap the export itself
  const malloc = w._malloc.bind(w);
  w._malloc = (n: number) => {
    // sbrk takes a signed 32-bit increment: a request of 2 GB or more whose end would pass 4 GB is not refused but
    // wraps, moving the heap's end DOWN over live tensors (measured: the next op fails in dispose_data); it could
    // never fit, so it is refused here. Smaller requests are checked by sbrk itself (malloc returns 0).
    const p = n >= 2 ** 31 && n + w.HEAPU8.length > HEAP_MAX ? 0 : malloc(n);
    if (p === 0 && n > 0)
      throw new Error(`wasm heap exhausted: ${(n / 2 ** 20).toFixed(1)} MB requested with the heap at ${(w.HEAPU8.buffer.byteLength / 2 ** 20).toFixed(0)} MB (the 4 GB maximum of 32-bit wasm); use a smaller batch or another backend`);
    return p;
  };
  guarded.add(w);
}
