import { ScdError } from "../errors.ts";
/**
 * The policy interface the control loop uses: a pure chunk predictor. `observe` is called once per control frame
 * (the SCD encoder step); `sampleChunk` returns H actions [H * A]. No action queues inside policies: execution
 * (receding horizon, ensembling, async) belongs to the control loop.
 */
import type { Obs } from "../env/types.ts";

export interface Frame {
  obs: Obs;
  /** The action executed at the previous tick (null at the first frame). */
  prevAction: Float32Array | null;
}

export interface ChunkPolicy {
  readonly name: string;
  readonly horizon: number;
  readonly actionDim: number;
  reset(seed?: number): void;
  observe(frame: Frame): void;
  sampleChunk(opts?: { steps?: number; seed?: number }): Float32Array | Promise<Float32Array>;
  dispose?(): void;
  /** Observation features the policy reads (checked against an env's or a topic map's before a run). */
  readonly requiredFeatures?: readonly string[];
  /** Values per observation feature the policy was trained on (checked against a topic map before a run). */
  readonly featureDims?: Readonly<Record<string, number>>;
}

/** Throws naming the missing features when a policy cannot run on these observations. */
export function checkFeatures(policy: ChunkPolicy, available: readonly string[], where: string): void {
  const missing = (policy.requiredFeatures ?? []).filter((f) => !available.includes(f));
  if (missing.length)
    throw new ScdError(`policy "${policy.name}" needs observation feature(s) ${missing.join(", ")}, but ${where} provides ${available.join(", ")}`);
}
