/**
 * What a learned policy's model provides (src/policies/<name>/model.ts), and the registry that finds it by name.
 * Models work in normalized units; LearnedPolicy (learned.ts) adds normalizers, frames and checkpoints.
 */
import type * as tf from "@tensorflow/tfjs";
import type { z } from "zod";
import type { WindowTensors, FrameLayout } from "./frames.ts";
import type { Rng } from "../util/rng.ts";
import { ScdError } from "../errors.ts";
import { nearest } from "../util/nearest.ts";

/** A model's parameters by dotted name (`Module.parameters()`), flat float32 values: what weights.msgpack holds. */
export type Weights = Record<string, Float32Array>;

/** A learned policy's network in normalized units (src/policies/<name>/model.ts): the training loss and the per-frame inference steps. */
export interface PolicyModel {
  readonly horizon: number;
  readonly actionDim: number;
  /** Training window length (frames) and how many positions per window get a chunk loss. */
  readonly window: number;
  readonly positionsPerWindow: number;
  readonly defaultSteps: number;
  /** The training loss on a batch of windows. */
  loss(batch: WindowTensors, rng: Rng): tf.Scalar;
  /** Inference state for `batch` parallel streams. */
  reset(batch: number): void;
  /** One control frame [B, frameDim]: the once-per-frame part (an encoder step). */
  observe(frame: tf.Tensor): void;
  /** A chunk [B, H, A] in normalized units, from `steps` denoising steps (ignored by deterministic models). */
  sample(steps: number, rng: Rng): tf.Tensor;
  /** The trainable variables by name (the names of checkpoint weights). */
  parameters(): Map<string, tf.Variable>;
  /** Number of trainable values. */
  numParams(): number;
  /** The learning-rate multiplier of a parameter (e.g. 2 for SCD's decoder). */
  lrMult(paramName: string): number;
  /** Release the variables and the inference state. */
  dispose(): void;
}

/** A policy's registration: its name, config schema and model factory, and the defaults older checkpoints and training use. */
export interface PolicyDef<C extends z.ZodTypeAny = z.ZodTypeAny> {
  name: string;
  description: string;
  configSchema: C;
  /** A freshly initialized model for a parsed config and a frame layout. */
  create(config: z.infer<C>, layout: FrameLayout, seed: number): PolicyModel;
  /** Values implied for config keys that did not exist when older checkpoints were written (keeps them loadable). */
  savedDefaults?: Record<string, unknown>;
  /** The policy's own training-recipe defaults (TrainConfig keys, e.g. `{ lr: 1e-3 }`), under whatever is given. */
  trainDefaults?: Record<string, unknown>;
  /** What a frame holds for this config (default: observations + previous action + first-frame flag). */
  frameOptions?(config: z.infer<C>): { prevAction?: boolean };
}

const POLICIES = new Map<string, PolicyDef>();

/** Add a policy to the registry (src/policies/<name>/index.ts); a name registers once. */
export function registerPolicy<C extends z.ZodTypeAny>(def: PolicyDef<C>): void {
  if (POLICIES.has(def.name)) throw new Error(`policy "${def.name}" registered twice`);
  POLICIES.set(def.name, def as unknown as PolicyDef);
}

/** The registered policy names, sorted. */
export function policyNames(): string[] {
  return [...POLICIES.keys()].sort();
}

export function policyDef(name: string): PolicyDef {
  const d = POLICIES.get(name);
  if (!d) {
    const near = nearest(name, policyNames());
    throw new ScdError(`unknown policy "${name}"${near ? ` (did you mean "${near}"?)` : ""}; registered: ${policyNames().join(", ")}`);
  }
  return d;
}

/** Parse a policy config at the edge (CLI, file, checkpoint) with messages that quote the bad field. */
export function parsePolicyConfig(def: PolicyDef, raw: unknown, where: string): Record<string, unknown> {
  const r = def.configSchema.safeParse(raw ?? {});
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ScdError(`${where}: invalid ${def.name} config: ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  return r.data as Record<string, unknown>;
}
