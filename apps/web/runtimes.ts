/**
 * The page's policy runtimes for one checkpoint: ONNX Runtime Web (wasm; the export under models/, loaded at start)
 * or TensorFlow.js (wasm or cpu backend; the checkpoint itself under checkpoints/, fetched with the tfjs chunk on
 * first use). Switching backends disposes the running tfjs policy first (its tensors live on the old backend).
 */
import type { ChunkPolicy } from "../../src/policies/types.ts";
import type { NormalizedChunkPolicy } from "../../src/policies/normalized.ts";
import type { WebExport } from "../../src/checkpoints/fetch-export.ts";
import type { TfjsWebInfo } from "../../src/web/tfjs-web.ts";
import type { WebCheckpoint } from "../../src/checkpoints/fetch-checkpoint.ts";
import type { CheckpointMeta, Weights } from "../../src/checkpoints/format.ts";

export type Runtime = "onnx" | "tfjs-wasm" | "tfjs-cpu";
export const RUNTIMES: Record<Runtime, string> = { onnx: "ONNX Runtime Web, wasm", "tfjs-wasm": "TensorFlow.js, wasm", "tfjs-cpu": "TensorFlow.js, cpu" };
type TfjsChunk = typeof import("./tfjs-runtime.ts");

export class Runtimes {
  runtime: Runtime = "onnx";
  tfjsInfo: TfjsWebInfo | null = null;
  private tfjs: TfjsChunk | null = null;
  private readonly checkpoints: Record<string, WebCheckpoint> = {};
  private readonly trained: Record<string, { meta: CheckpointMeta; weights: Weights }> = {};
  private queue: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier runtime change has finished: backend switches and checkpoint loads never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => {});
    return p;
  }

  /** `exports` and `dirs`: env id → its ONNX export, and its folder name under models/ and checkpoints/. */
  constructor(readonly exports: Record<string, WebExport>, readonly dirs: Record<string, string>) {}

  has(envId: string): boolean {
    return envId in this.exports;
  }

  /** Make `rt` current for `envId` (loads TensorFlow.js and the checkpoint on first use). The caller has disposed any tfjs policy. */
  use(rt: Runtime, envId: string): Promise<void> {
    return this.serial(() => this.useNow(rt, envId));
  }

  private async useNow(rt: Runtime, envId: string): Promise<void> {
    if (rt !== "onnx") {
      this.tfjs ??= await import("./tfjs-runtime.ts");
      this.tfjsInfo = await this.tfjs.useTfjsBackend(rt === "tfjs-wasm" ? "wasm" : "cpu", new URL("tfjs/", location.href).href);
      if (this.has(envId)) this.checkpoints[envId] ??= await this.tfjs.loadWebCheckpoint(new URL(`checkpoints/${this.dirs[envId]}/`, location.href).href);
    }
    this.runtime = rt;
  }

  /** A new SCD policy for `envId` on the current runtime. */
  policy(envId: string): NormalizedChunkPolicy & ChunkPolicy {
    return this.runtime === "onnx" ? this.exports[envId].policy() : this.checkpoints[envId].policy();
  }

  /** Keep a policy trained in the page for `envId` (it runs on TensorFlow.js: started on wasm if it is not yet loaded). */
  addTrained(envId: string, meta: CheckpointMeta, weights: Weights): Promise<void> {
    return this.serial(async () => {
      this.tfjs ??= await import("./tfjs-runtime.ts");
      if (!this.tfjsInfo) this.tfjsInfo = await this.tfjs.useTfjsBackend("wasm", new URL("tfjs/", location.href).href);
      this.trained[envId] = { meta, weights };
    });
  }

  /** "TensorFlow.js, wasm" / "TensorFlow.js, cpu": where a policy trained in the page runs now. */
  trainedLabel(): string {
    return `TensorFlow.js, ${this.tfjsInfo?.backend ?? "wasm"}`;
  }

  hasTrained(envId: string): boolean {
    return envId in this.trained;
  }

  /** A new policy from the weights trained in the page for `envId`, on the current tfjs backend. */
  trainedPolicy(envId: string): ChunkPolicy {
    const t = this.trained[envId];
    return this.tfjs!.policyFromCheckpoint(t.meta, t.weights, { meta: "the policy trained in this page", weights: "the policy trained in this page" });
  }

  label(): string {
    const t = this.tfjsInfo;
    return this.runtime === "onnx" || !t ? RUNTIMES[this.runtime] : `${RUNTIMES[this.runtime]}${t.simd ? " SIMD" : ""} (tfjs ${t.tfjsVersion})`;
  }

  /** Tensors alive in TensorFlow.js (null before it is loaded). */
  tensors(): number | null {
    return this.tfjs?.tfjsTensorCount() ?? null;
  }

  /**
   * Largest |Δ| between this runtime's and ONNX Runtime Web's normalized chunks for `envId` over `frames` frames at K
   * `steps`, same noise, on observations `obs(t, executed)` (src/deploy/parity.ts). Needs a TensorFlow.js runtime.
   */
  parity(envId: string, frames: number, steps: number, obs: Parameters<TfjsChunk["chunkParity"]>[4]): number {
    if (!this.tfjs || this.runtime === "onnx") throw new Error("parity compares TensorFlow.js with ONNX Runtime Web: switch the runtime to TensorFlow.js first");
    const a = this.checkpoints[envId].policy(), b = this.exports[envId].policy();
    try {
      return this.tfjs.chunkParity(a, b, frames, steps, obs);
    } finally {
      a.dispose();
      b.dispose();
    }
  }
}
