/**
 * Training in the page: the person's recordings go to a Web Worker (train-worker.ts) that trains a small SCD policy
 * with TensorFlow.js, posting progress each step; the result comes back as checkpoint metadata + EMA weights.
 */
import type { CheckpointMeta, Weights } from "../../src/checkpoints/format.ts";
import type { TrainMessage, TrainRequest } from "../../src/web/train-protocol.ts";

/**
 * SCD sized for a few demonstrations and a minute of training in a browser tab: measured in Node, 6 expert
 * reach-obstacle-v1 episodes, 300 steps × 32 windows (29 s) → 95 % success on 20 test seeds.
 */
export const PAGE_SCD_CONFIG = { dModel: 64, encLayers: 2, decDModel: 128, decLayers: 2, horizon: 8 };

export interface TrainState {
  running: boolean;
  step: number;
  steps: number;
  losses: number[];
  stepsPerSec: number;
  seconds: number | null;
  backend: string;
  error: string | null;
}

export interface TrainHooks {
  onProgress(s: TrainState): void;
  onDone(meta: CheckpointMeta, weights: Weights, s: TrainState): void;
  onError(message: string): void;
}

export class PageTraining {
  private worker: Worker | null = null;
  state: TrainState = { running: false, step: 0, steps: 0, losses: [], stepsPerSec: 0, seconds: null, backend: "", error: null };

  get running(): boolean {
    return this.worker !== null;
  }

  /** Train on `bytes` (a native dataset file's bytes) for `steps` steps of `batch` windows. */
  start(bytes: Uint8Array, name: string, steps: number, hooks: TrainHooks, batch = 32): void {
    this.stop();
    const w = (this.worker = new Worker(new URL("train-worker.js", location.href), { type: "module" }));
    this.state = { running: true, step: 0, steps, losses: [], stepsPerSec: 0, seconds: null, backend: "", error: null };
    const fail = (message: string) => {
      this.stop();
      this.state.error = message;
      hooks.onError(message);
    };
    w.onmessage = (e: MessageEvent<TrainMessage>) => {
      const m = e.data;
      if (m.type === "ready") this.state.backend = m.backend;
      else if (m.type === "progress") {
        Object.assign(this.state, { step: m.step, stepsPerSec: m.stepsPerSec });
        this.state.losses.push(m.loss);
        hooks.onProgress(this.state);
      } else if (m.type === "done") {
        this.state.seconds = m.seconds;
        this.stop();
        hooks.onDone(m.meta, m.weights, this.state);
      } else fail(m.message);
    };
    w.onerror = (e) => fail(`training worker failed: ${e.message || "could not start"}`);
    const req: TrainRequest = { type: "train", bytes, name, policy: "scd", policyConfig: PAGE_SCD_CONFIG, train: { steps, batch, warmup: Math.min(30, Math.ceil(steps / 10)), valFraction: 0, seed: 0 } };
    w.postMessage(req, [bytes.buffer as ArrayBuffer]);
  }

  stop(): void {
    this.worker?.terminate();
    this.worker = null;
    this.state.running = false;
  }
}
