/**
 * What an exportable policy provides (src/policies/<name>/onnx.ts, registered in src/policies/onnx.ts with one line):
 * `build` turns checkpoint metadata + weights into named ONNX graphs, `runtime` drives those graphs per control
 * frame on plain arrays (the denoising loop is src/diffusion/objective.ts's, shared with tfjs). Graph runners are
 * an interface, so the same runtime code runs on onnxruntime-node (ort-node.ts) or onnxruntime-web.
 */
import { ScdError } from "../errors.ts";
import type { CheckpointMeta } from "../checkpoints/checkpoint.ts";
import type { Objective } from "../diffusion/schedules.ts";
import type { Rng } from "../util/rng.ts";
import type { GraphBuilder } from "./onnx-graph.ts";
import type { WeightReader } from "./onnx-nn.ts";

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
  /** One control frame [B·frameDim]. */
  observe(frame: Float32Array): void;
  /** A chunk [B·H·A] from `steps` denoising steps (ignored by deterministic policies). */
  sample(steps: number, rng: Rng): Float32Array;
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

export interface BuiltGraph {
  builder: GraphBuilder;
  doc: string;
}

export interface OnnxExportDef {
  policy: string;
  /** Checkpoint → graphs (weights by name) + facts. Throws ScdError naming the weights file on a mismatch. */
  build(meta: CheckpointMeta, w: WeightReader): { graphs: Record<string, BuiltGraph>; facts: ExportFacts };
  /** Loaded graphs → the per-frame runtime. `config` is the checkpoint's policy config as recorded in the manifest. */
  runtime(config: Record<string, unknown>, facts: ExportFacts, frameDim: number, graphs: Record<string, GraphRunner>): ArrayModel;
}

const DEFS = new Map<string, OnnxExportDef>();

export function registerOnnxExport(def: OnnxExportDef): void {
  if (DEFS.has(def.policy)) throw new Error(`ONNX export for "${def.policy}" registered twice`);
  DEFS.set(def.policy, def);
}

export function onnxExportDef(policy: string, where: string): OnnxExportDef {
  const d = DEFS.get(policy);
  if (!d) throw new ScdError(`${where}: policy "${policy}" has no ONNX export (exportable: ${[...DEFS.keys()].sort().join(", ")})`);
  return d;
}

export function onnxExportNames(): string[] {
  return [...DEFS.keys()].sort();
}
