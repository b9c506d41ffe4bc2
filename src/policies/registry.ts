/**
 * What a learned policy provides, and the registry that finds it by name: one registration per policy holds its
 * config, its model factory (src/policies/<name>/model.ts) and its ONNX export (src/policies/<name>/export.ts):
 * the graphs' interfaces, each graph TRACED from the model's own forward code (src/deploy/onnx-ops.ts runs `trace`
 * on symbolic values that emit ONNX nodes), the facts the manifest records, and the runtime that drives the loaded
 * graphs per frame on plain arrays (on onnxruntime-node or -web; browser-safe). Models work in normalized units;
 * LearnedPolicy (learned.ts) adds normalizers, frames and checkpoints.
 */
import type { SampleGuide } from "../diffusion/sampler.ts";
import type * as tf from "@tensorflow/tfjs";
import type { z } from "zod";
import type { WindowTensors, FrameLayout } from "./frames.ts";
import type { Ops } from "../nn/ops.ts";
import type { Objective } from "../diffusion/schedules.ts";
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
  /** One control frame [B, frameDim] (+ the layout's images, each normalized [B, H, W, 3]): the once-per-frame part (an encoder step). */
  observe(frame: tf.Tensor, images?: tf.Tensor[]): void;
  /** A chunk [B, H, A] in normalized units, from `steps` denoising steps (ignored by deterministic models); `guide`: a plan to continue (real-time chunking). */
  sample(steps: number, rng: Rng, guide?: SampleGuide): tf.Tensor;
  /** The trainable variables by name (the names of checkpoint weights). */
  parameters(): Map<string, tf.Variable>;
  /** Number of trainable values. */
  numParams(): number;
  /** The learning-rate multiplier of a parameter (e.g. 2 for SCD's decoder). */
  lrMult(paramName: string): number;
  /** The named terms of the last loss() call when it has several (e.g. SCD's `{ chunk, aux }`), else null. */
  lossParts?(): Record<string, number> | null;
  /** Whether a parameter is read by the training loss only (e.g. an auxiliary head): the ONNX export skips it. */
  trainingOnly?(paramName: string): boolean;
  /** Release the variables and the inference state. */
  dispose(): void;
}

/** A policy's registration: its name, config schema, model factory and ONNX export, and the defaults older checkpoints and training use. */
export interface PolicyDef<C extends z.ZodTypeAny = z.ZodTypeAny> {
  name: string;
  description: string;
  configSchema: C;
  /** A freshly initialized model for a parsed config and a frame layout. */
  create(config: z.infer<C>, layout: FrameLayout, seed: number): PolicyModel;
  /** Its ONNX export (OnnxSpec below): graphs traced from the model's forward code, the manifest's facts, the runtime. */
  onnx?: OnnxSpec<z.infer<C>>;
  /** Small configs that together reach every code path (decoder kinds, objectives, frame contents): the contract,
   * leak and export tests run the policy at each. Default: the schema's defaults. */
  smallConfigs?: Record<string, unknown>[];
  /** Earlier names of this policy: checkpoints and exports saved under them still load. */
  aliases?: string[];
  /** Values implied for config keys that did not exist when older checkpoints were written (keeps them loadable). */
  savedDefaults?: Record<string, unknown>;
  /** The policy's own training-recipe defaults (TrainConfig keys, e.g. `{ lr: 1e-3 }`), under whatever is given. */
  trainDefaults?: Record<string, unknown>;
  /** What a frame holds for this config (default: observations + previous action + first-frame flag; `images`: the
   * policy takes image features beside the frame, else they are refused; `aux`: training-only target features). */
  frameOptions?(config: z.infer<C>): { prevAction?: boolean; images?: boolean; aux?: string[] };
  /** Config keys only training reads (e.g. SCD's `auxTarget`): an ONNX export's manifest leaves them out. */
  trainingOnlyConfig?: string[];
  /** The config to record for a training run on `layout` (e.g. the image encoder's defaults made explicit); default: as is. */
  configForLayout?(config: z.infer<C>, layout: FrameLayout): z.infer<C>;
}

/** A registration without the model factory: runs the policy's ONNX exports in a bundle without TensorFlow.js. */
export type PolicySpec<C extends z.ZodTypeAny = z.ZodTypeAny> = Omit<PolicyDef<C>, "create">;

const POLICIES = new Map<string, PolicyDef>();
const SPEC_ONLY = new WeakSet<PolicyDef>();

/**
 * Add a policy to the registry (src/policies/<name>/index.ts); a name registers once. A registration without
 * `create` (a PolicySpec) serves ONNX exports only, and the full one of the same policy (the same config schema
 * object) may follow it, as the page's lazily loaded TensorFlow.js chunk does.
 */
export function registerPolicy<C extends z.ZodTypeAny>(def: PolicyDef<C> | PolicySpec<C>): void {
  const d = def as unknown as PolicyDef, had = POLICIES.get(d.name);
  const specOnly = !("create" in def);
  if (had && !(had.configSchema === d.configSchema && (SPEC_ONLY.has(had) || specOnly))) throw new Error(`policy "${d.name}" registered twice`);
  if (had && specOnly) return; // the full registration is there already
  const full: PolicyDef = specOnly
    ? { ...d, create: () => { throw new ScdError(`policy "${d.name}" is registered for its ONNX exports only; import its TensorFlow.js model (scd-policy/policies) to build one`); } }
    : d;
  if (specOnly) SPEC_ONLY.add(full);
  POLICIES.set(d.name, full);
  for (const a of d.aliases ?? []) ALIASES.set(a, d.name);
}

/** Earlier policy names → current ones (PolicyDef.aliases). */
const ALIASES = new Map<string, string>();

/** Whether `name` is a registered policy or one of their earlier names. */
export function isPolicyName(name: string): boolean {
  return POLICIES.has(name) || ALIASES.has(name);
}

/** The registered policy names, sorted (without earlier names). */
export function policyNames(): string[] {
  return [...POLICIES.keys()].sort();
}

export function policyDef(name: string): PolicyDef {
  const d = POLICIES.get(name) ?? POLICIES.get(ALIASES.get(name) ?? "");
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

// ---- the ONNX export part of a registration (types only, browser-safe) ----

/** A graph dimension: a number is fixed, a string symbolic (e.g. "batch"). */
export type Dim = number | string;
/** An element type of a graph input or output. */
export type DType = "float32" | "float64" | "int64";

/** A graph input or output: numbers are fixed dimensions, strings symbolic (e.g. "batch"). */
export interface ValueSpec {
  name: string;
  dtype: DType;
  shape: Dim[];
  doc?: string;
}

/** A tensor crossing the runtime boundary: row-major data and dimensions. */
export interface Feed {
  data: Float32Array | Float64Array;
  dims: readonly number[];
}

/** An input or output as a loaded graph declares it (symbolic dimensions as strings). */
export interface IOMeta {
  name: string;
  dtype: string;
  shape: (number | string)[];
}

/** One loaded graph, run synchronously. */
export interface GraphRunner {
  readonly inputs: IOMeta[];
  readonly outputs: IOMeta[];
  /** Run the graph on named inputs; returns its outputs by name. */
  run(feeds: Record<string, Feed>): Record<string, Feed>;
  /** Release the graph's session. */
  dispose(): void;
}

/** A policy's per-frame computation on plain arrays, in normalized units (the ONNX counterpart of PolicyModel). */
export interface ArrayModel {
  /** Clear the state (KV cache, frame history) for `batch` parallel streams. */
  reset(batch: number): void;
  /** One control frame [B·frameDim] (+ the layout's images, each normalized [B·H·W·3]). */
  observe(frame: Float32Array, images?: Float32Array[]): void;
  /** A chunk [B·H·A] from `steps` denoising steps (ignored by deterministic policies); `guide` as for PolicyModel. */
  sample(steps: number, rng: Rng, guide?: SampleGuide): Float32Array;
}

/** The runtime facts of an export, recorded in its manifest. */
export interface ExportFacts {
  horizon: number;
  actionDim: number;
  defaultSteps: number;
  objective: Objective | null;
  /** How the graphs are driven per frame, for users in other languages. */
  runtime: string;
}

/** One exported graph: its interface and the model code it is traced from. */
export interface GraphDef<M = PolicyModel> {
  /** What the graph computes and when it runs (the manifest's graph doc). */
  doc: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  /** A graph that exports made before it existed may lack (the runtime then does without it). */
  optional?: boolean;
  /** The model's forward code for this graph, on any Ops: named inputs → named outputs (every declared output). */
  trace<T>(model: M, o: Ops<T>, inputs: Record<string, T>): Record<string, T>;
}

/** A policy's ONNX export, part of its registration (PolicyDef `onnx`). */
export interface OnnxSpec<C = Record<string, unknown>, M = PolicyModel> {
  /** The graphs for a config and frame layout, by name (the .onnx file names). */
  graphs(config: C, layout: FrameLayout): Record<string, GraphDef<M>>;
  /** The manifest's facts for a config and frame layout. */
  facts(config: C, layout: FrameLayout): ExportFacts;
  /** Loaded graphs → the per-frame runtime. */
  runtime(config: C, facts: ExportFacts, frameDim: number, graphs: Record<string, GraphRunner>): ArrayModel;
}
