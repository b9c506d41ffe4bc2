/**
 * Checkpoints: a directory with checkpoint.json (format, version, policy name, config, frame layout, normalizer
 * stats, step), weights.msgpack (the EMA weights used for inference) and, for --resume, train_state.msgpack
 * (raw weights, optimizer moments, RNG, step). Written into a temp directory and renamed into place.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Packr } from "msgpackr";
import { z } from "zod";
import { ScdError } from "../errors.ts";
import { readVersionedJson } from "../util/fsx.ts";
import { NormSetSchema, normDim } from "../data/normalizer.ts";

export const CKPT_FORMAT = "scd-checkpoint";
export const CKPT_VERSION = 1;
const packr = new Packr({ moreTypes: true, useRecords: false });

export const CheckpointMeta = z.object({
  format: z.literal(CKPT_FORMAT),
  version: z.number().int(),
  policy: z.string(),
  config: z.record(z.string(), z.unknown()),
  layout: z.object({ obsFeatures: z.array(z.object({ name: z.string(), dim: z.number().int().positive() })), actionDim: z.number().int().positive(), frameDim: z.number().int().positive(), prevAction: z.boolean().optional() }),
  normalizers: NormSetSchema,
  step: z.number().int().nonnegative(),
  numParams: z.number().int().nonnegative(),
  seed: z.number().int(),
  info: z.record(z.string(), z.unknown()).default({}),
});
export type CheckpointMeta = z.infer<typeof CheckpointMeta>;
export type Weights = Record<string, Float32Array>;

export function writeCheckpoint(dir: string, meta: CheckpointMeta, weights: Weights, trainState?: Record<string, unknown>): void {
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  fs.mkdirSync(tmp);
  const put = (name: string, data: string | Uint8Array) => {
    const fd = fs.openSync(path.join(tmp, name), "w");
    fs.writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  };
  put("checkpoint.json", JSON.stringify(meta, null, 2) + "\n");
  put("weights.msgpack", packr.pack(weights));
  if (trainState) put("train_state.msgpack", packr.pack(trainState));
  const old = path.join(parent, `.${path.basename(dir)}.old-${process.pid}`);
  const had = fs.existsSync(dir);
  if (had) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  if (had) fs.rmSync(old, { recursive: true, force: true });
}

export function readCheckpointMeta(dir: string): CheckpointMeta {
  const f = path.join(dir, "checkpoint.json");
  if (!fs.existsSync(f)) throw new ScdError(`${dir}: not a checkpoint (no checkpoint.json)`);
  const meta = readVersionedJson(f, CKPT_FORMAT, CKPT_VERSION, CheckpointMeta, { version: "checkpoint", invalid: "checkpoint" });
  checkMetaParts(meta, f);
  return meta;
}

/**
 * The parts of checkpoint.json must agree with each other: the frame layout's size, and a normalizer of the
 * right dimension for every observation feature and the action. A checkpoint that fails this would load and then
 * fail at every control tick.
 * @throws ScdError naming the file, the field and the value.
 */
export function checkMetaParts(meta: CheckpointMeta, where: string): void {
  const L = meta.layout;
  const needs = [...L.obsFeatures, { name: "action", dim: L.actionDim }];
  const needList = needs.map((f) => `${f.name} [${f.dim}]`).join(", ");
  const obsDim = L.obsFeatures.reduce((a, f) => a + f.dim, 0);
  const frameDim = obsDim + (L.prevAction === false ? 0 : L.actionDim + 1);
  if (L.frameDim !== frameDim) throw new ScdError(`${where}: layout.frameDim is ${L.frameDim}, but its features give ${frameDim} (${needList}${L.prevAction === false ? "" : " + previous action + first-frame flag"})`);
  const names = new Set<string>();
  for (const f of L.obsFeatures) {
    if (names.has(f.name)) throw new ScdError(`${where}: layout.obsFeatures lists "${f.name}" twice`);
    names.add(f.name);
  }
  for (const f of needs) {
    const s = meta.normalizers[f.name];
    if (!s) throw new ScdError(`${where}: normalizers has no entry for "${f.name}" (the layout needs ${needList})`);
    const d = normDim(s);
    if (d !== f.dim) throw new ScdError(`${where}: normalizers["${f.name}"] has dimension ${d}, the layout says ${f.dim}`);
    if (s.mode === "minmax" && s.max.length !== d) throw new ScdError(`${where}: normalizers["${f.name}"] has ${s.min.length} min and ${s.max.length} max values`);
    if (s.mode === "meanstd" && s.std.length !== d) throw new ScdError(`${where}: normalizers["${f.name}"] has ${s.mean.length} mean and ${s.std.length} std values`);
  }
}

function readPacked(file: string, what: string): Record<string, unknown> {
  if (!fs.existsSync(file)) throw new ScdError(`${file}: missing ${what}`);
  try {
    const v = packr.unpack(fs.readFileSync(file));
    if (!v || typeof v !== "object") throw new Error("not a map");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new ScdError(`${file}: corrupt ${what} (${(e as Error).message})`);
  }
}

export function readWeights(dir: string): Weights {
  const w = readPacked(path.join(dir, "weights.msgpack"), "weights");
  for (const [k, v] of Object.entries(w)) if (!(v instanceof Float32Array)) throw new ScdError(`${dir}/weights.msgpack: "${k}" is not a float32 array`);
  return w as Weights;
}

export function readTrainState(dir: string): Record<string, unknown> {
  return readPacked(path.join(dir, "train_state.msgpack"), "training state (was this checkpoint saved without it?)");
}
