/** Messages between the page and its training Web Worker (apps/web/train-worker.ts), browser-safe. */
import type { CheckpointMeta, Weights } from "../checkpoints/format.ts";

/** Page → worker: train `policy` on the native dataset `bytes` (a recording). */
export interface TrainRequest {
  type: "train";
  bytes: Uint8Array;
  /** Names the data in errors and in the checkpoint's info. */
  name: string;
  policy: string;
  policyConfig: Record<string, unknown>;
  /** Training settings over TrainConfig's defaults (steps, batch, lr, warmup, seed, …). */
  train: Record<string, unknown>;
}

export type TrainMessage =
  | { type: "ready"; backend: string }
  | { type: "progress"; step: number; steps: number; loss: number; stepsPerSec: number }
  /** The EMA weights and checkpoint.json's contents: policyFromCheckpoint builds the policy from them. */
  | { type: "done"; meta: CheckpointMeta; weights: Weights; seconds: number }
  | { type: "error"; message: string };
