/**
 * The checkpoint format without the files (browser-safe): checkpoint.json's schema and consistency checks, and the
 * msgpack coding of weights.msgpack / train_state.msgpack. checkpoint.ts reads and writes directories with these;
 * the web page (src/checkpoints/fetch-checkpoint.ts) fetches the same two files over HTTP.
 */
import { Packr } from "msgpackr";
import { z } from "zod";
import { ScdError } from "../errors.ts";
import { parseVersionedJson } from "../util/versioned.ts";
import { NormSetSchema, normDim } from "../datasets/normalizer.ts";

export const CKPT_FORMAT = "scd-checkpoint";
export const CKPT_VERSION = 1;
// moreTypes: Float32Array values come back as Float32Array (msgpack extension types)
const packr = new Packr({ moreTypes: true, useRecords: false });

/** The schema of a checkpoint's `checkpoint.json` (zod). */
export const CheckpointMeta = z.object({
  format: z.literal(CKPT_FORMAT),
  version: z.number().int(),
  policy: z.string(),
  config: z.record(z.string(), z.unknown()),
  layout: z.object({ obsFeatures: z.array(z.object({ name: z.string(), dim: z.number().int().positive() })), actionDim: z.number().int().positive(), frameDim: z.number().int().positive(), prevAction: z.boolean().optional(), images: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().positive()).length(3) })).optional(), aux: z.array(z.object({ name: z.string(), dim: z.number().int().positive() })).optional() }),
  normalizers: NormSetSchema,
  step: z.number().int().nonnegative(),
  numParams: z.number().int().nonnegative(),
  seed: z.number().int(),
  info: z.record(z.string(), z.unknown()).default({}),
});
/** A checkpoint's `checkpoint.json`: policy and config, frame layout, normalizers, step, parameter count, seed. */
export type CheckpointMeta = z.infer<typeof CheckpointMeta>;
/** Parameter name → its values, flat, row-major (float32). */
export type { Weights } from "../policies/registry.ts";
import type { Weights } from "../policies/registry.ts";

/**
 * checkpoint.json's text (read from `where`, a path or URL) → its metadata, parts checked against each other.
 * @throws ScdError naming `where`, the field and the value.
 */
export function parseCheckpointMeta(text: string, where: string): CheckpointMeta {
  const meta = parseVersionedJson(text, where, CKPT_FORMAT, CKPT_VERSION, CheckpointMeta, { version: "checkpoint", invalid: "checkpoint" });
  checkMetaParts(meta, where);
  return meta;
}

/**
 * The parts of checkpoint.json (or an export's manifest.json) must agree with each other: the frame layout's size,
 * and a normalizer of the right dimension for every observation feature and the action. A checkpoint that fails
 * this would load and then fail at every control tick.
 * @throws ScdError naming the file, the field and the value.
 */
export function checkMetaParts(meta: Pick<CheckpointMeta, "layout" | "normalizers">, where: string): void {
  const L = meta.layout;
  const needs = [...L.obsFeatures, { name: "action", dim: L.actionDim }];
  const needList = needs.map((f) => `${f.name} [${f.dim}]`).join(", ");
  const obsDim = L.obsFeatures.reduce((a, f) => a + f.dim, 0);
  const frameDim = obsDim + (L.prevAction === false ? 0 : L.actionDim + 1);
  if (L.frameDim !== frameDim) throw new ScdError(`${where}: layout.frameDim is ${L.frameDim}, but its features give ${frameDim} (${needList}${L.prevAction === false ? "" : " + previous action + first-frame flag"})`, "incompatible");
  const names = new Set<string>();
  for (const f of L.obsFeatures) {
    if (names.has(f.name)) throw new ScdError(`${where}: layout.obsFeatures lists "${f.name}" twice`, "incompatible");
    names.add(f.name);
  }
  for (const f of needs) {
    const s = meta.normalizers[f.name];
    if (!s) throw new ScdError(`${where}: normalizers has no entry for "${f.name}" (the layout needs ${needList})`, "incompatible");
    const d = normDim(s);
    if (d !== f.dim) throw new ScdError(`${where}: normalizers["${f.name}"] has dimension ${d}, the layout says ${f.dim}`, "incompatible");
    if (s.mode === "minmax" && s.max.length !== d) throw new ScdError(`${where}: normalizers["${f.name}"] has ${s.min.length} min and ${s.max.length} max values`, "incompatible");
    if (s.mode === "meanstd" && s.std.length !== d) throw new ScdError(`${where}: normalizers["${f.name}"] has ${s.mean.length} mean and ${s.std.length} std values`, "incompatible");
  }
  // training-only aux targets: low-dimensional, each with a normalizer of its size
  for (const f of L.aux ?? []) {
    const s = meta.normalizers[f.name];
    if (!s || s.mode === "image" || normDim(s) !== f.dim) throw new ScdError(`${where}: layout.aux "${f.name}" [${f.dim}] needs a normalizer of that dimension, normalizers has ${s ? `${s.mode} of dimension ${normDim(s)}` : "none"}`, "incompatible");
  }
  // image features travel beside the frame: each needs an image normalizer of its shape
  for (const f of L.images ?? []) {
    if (names.has(f.name)) throw new ScdError(`${where}: layout lists "${f.name}" twice (obsFeatures, images)`, "incompatible");
    names.add(f.name);
    const s = meta.normalizers[f.name];
    if (s?.mode !== "image" || s.shape.join() !== f.shape.join()) throw new ScdError(`${where}: layout.images "${f.name}" [${f.shape}] needs an image normalizer of that shape, normalizers has ${s ? `${s.mode}${s.mode === "image" ? ` [${s.shape}]` : ""}` : "none"}`, "incompatible");
  }
}

/** msgpack bytes → a map. @throws ScdError "`where`: corrupt `what` (...)". */
export function decodePacked(bytes: Uint8Array, where: string, what: string): Record<string, unknown> {
  try {
    const v = packr.unpack(bytes);
    if (!v || typeof v !== "object") throw new Error("not a map");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new ScdError(`${where}: corrupt ${what} (${(e as Error).message})`, "corrupt-file");
  }
}

/** A map (weights, training state) → msgpack bytes; Float32Array values stay Float32Array when decoded. */
export function encodePacked(v: Record<string, unknown>): Uint8Array {
  return packr.pack(v);
}

/** weights.msgpack's bytes → weights. @throws ScdError naming `where` and the parameter that is not float32. */
export function decodeWeights(bytes: Uint8Array, where: string): Weights {
  const w = decodePacked(bytes, where, "weights");
  for (const [k, v] of Object.entries(w)) if (!(v instanceof Float32Array)) throw new ScdError(`${where}: "${k}" is not a float32 array`, "corrupt-file");
  return w as Weights;
}
