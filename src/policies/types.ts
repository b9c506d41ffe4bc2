import { ScdError } from "../errors.ts";
/**
 * The policy interface the control loop uses: a pure chunk predictor. `observe` is called once per control frame
 * (the SCD encoder step); `sampleChunk` returns H actions [H * A]. No action queues inside policies: execution
 * (receding horizon, ensembling, async) belongs to the control loop.
 */
import type { Obs } from "../envs/types.ts";

/** One control frame given to {@link ChunkPolicy.observe}: the observation and the action executed before it. */
export interface Frame {
  obs: Obs;
  /** The action executed at the previous tick (null at the first frame). */
  prevAction: Float32Array | null;
}

/**
 * A plan for a chunk to continue (real-time chunking): `prefix` [H·A] in the env's units, `weights` [H] in [0, 1]
 * (1: this action is already committed and will run; 0: free).
 */
export interface ChunkGuide {
  prefix: Float32Array;
  weights: Float32Array;
  /** How the sampler follows the plan: `inpaint` (default, every runtime) or `pigdm` (gradients: tfjs, flow models). */
  method?: "inpaint" | "pigdm";
  /** pigdm: clip on the guidance weight (default 5). */
  beta?: number;
}

/**
 * What the control loop runs: a pure chunk predictor. {@link ChunkPolicy.observe} once per control frame (the SCD
 * encoder step), {@link ChunkPolicy.sampleChunk} when the loop's queue asks for H actions; queues, ensembling
 * and timing belong to the loop.
 */
export interface ChunkPolicy {
  /** The policy's registered name ("scd", "expert", …). */
  readonly name: string;
  /** H: actions per chunk. */
  readonly horizon: number;
  /** A: values per action. */
  readonly actionDim: number;
  /** Start an episode: clear the history (and KV cache); `seed` seeds the sampling noise. */
  reset(seed?: number): void;
  /** Take in one control frame. */
  observe(frame: Frame): void;
  /**
   * Sample the next chunk of H actions, flat [H·A], in the env's units; `steps` denoising steps, `seed` for the
   * noise; `guide` (real-time chunking) asks the chunk to continue a plan: policies that can inpaint follow it where
   * its weights are 1 and lean toward it where they are between 0 and 1; others may ignore it.
   */
  sampleChunk(opts?: { steps?: number; seed?: number; guide?: ChunkGuide }): Float32Array | Promise<Float32Array>;
  /** Release the policy's tensors or sessions. */
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
