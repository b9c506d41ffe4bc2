/**
 * An ONNX export directory: manifest.json (format, version, policy, frame layout, normalizer stats, objective,
 * default steps, opset, and every graph's file, sha256, inputs and outputs with shapes) beside one .onnx file per
 * graph, each traced from the policy's model code over the checkpoint's weights (src/deploy/onnx-ops.ts). Written
 * into a temp directory and renamed into place; read back with every disagreement between the manifest and the
 * graphs reported as one ScdError naming the file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { ScdError } from "../errors.ts";
import { readVersionedJson } from "../util/fsx.ts";
import { EXPORT_FORMAT, EXPORT_VERSION, Manifest } from "./manifest.ts";
import { type CheckpointMeta, readCheckpointMeta, readWeights } from "./checkpoint.ts";
import { policyDef, parsePolicyConfig } from "../policies/registry.ts";
import { Module } from "../nn/module.ts";
import { OPSET, IR_VERSION } from "../deploy/onnx-graph.ts";
import { traceGraph, checkWeights } from "../deploy/onnx-ops.ts";
import { onnxExportDef, type GraphRunner } from "../deploy/runtime.ts";
import { checkGraphIO } from "./graph-check.ts";
import { checkManifest } from "./manifest-check.ts";
import { checkOutput, writeDirAtomic, putFile } from "../util/outputs.ts";

export { factsOf } from "./graph-check.ts";

export { EXPORT_FORMAT, EXPORT_VERSION, Manifest } from "./manifest.ts";

/** Graph name → ONNX bytes, and the manifest describing them (no files written). */
/** `minimal`: leave out the optional graphs (e.g. scd's fused decoder_sample), for deployments where size counts. */
export function buildExport(meta: CheckpointMeta, weights: Record<string, Float32Array>, where: string, source = where, minimal = false): { manifest: Manifest; files: Record<string, Uint8Array> } {
  const spec = onnxExportDef(meta.policy, where);
  // the config exactly as the tfjs loader resolves it (learned.ts): fields an older checkpoint lacks take the
  // defaults it was saved under, then the schema's; the manifest records it complete
  const pdef = policyDef(meta.policy);
  const config = parsePolicyConfig(pdef, { ...pdef.savedDefaults, ...meta.config }, `${where}/checkpoint.json`);
  // the schema drops keys it does not know; an export must not silently ignore an architecture field
  for (const [k, v] of Object.entries(meta.config as Record<string, unknown>))
    if (!(k in config)) throw new ScdError(`${where}/checkpoint.json: config field "${k}" = ${JSON.stringify(v)} is not supported by the ONNX export of ${meta.policy}`);
  meta = { ...meta, config };
  // the graphs are traced from the model's own forward code (built without tensors: no tfjs backend needed), its
  // parameters holding the checkpoint's weights
  const model = Module.withoutTensors(() => pdef.create(config, meta.layout, 0));
  checkWeights(model.parameters(), weights, `${where}/weights.msgpack`);
  const files: Record<string, Uint8Array> = {};
  const entries: Manifest["graphs"] = {};
  const read = new Set<string>();
  for (const [name, def] of Object.entries(spec.graphs(config, meta.layout))) {
    if (minimal && def.optional) continue;
    const { builder, params } = traceGraph(name, def, model, weights);
    params.forEach((p) => read.add(p));
    const bytes = builder.toBytes(`${meta.policy}: ${def.doc}`);
    files[`${name}.onnx`] = bytes;
    entries[name] = { file: `${name}.onnx`, sha256: createHash("sha256").update(bytes).digest("hex"), doc: def.doc, inputs: [...builder.declaredInputs], outputs: [...builder.declaredOutputs] };
  }
  // a parameter no graph reads would be a model the export does not run: refuse, never drop it
  const unread = [...model.parameters().keys()].filter((k) => !read.has(k) && !model.trainingOnly?.(k));
  if (unread.length) throw new ScdError(`${where}/weights.msgpack: the ONNX graphs of ${meta.policy} do not read parameter(s) ${unread.slice(0, 3).join(", ")}${unread.length > 3 ? ` (+${unread.length - 3} more)` : ""}`);
  const facts = spec.facts(config, meta.layout);
  // what only training reads stays out of the deployment: config keys (e.g. SCD's auxTarget), the layout's aux
  // targets and their normalizers, the training-only parameters in the count
  const trainingOnlyKeys = new Set(pdef.trainingOnlyConfig ?? []);
  const { aux, ...layout } = meta.layout;
  const used = new Set([...layout.obsFeatures.map((f) => f.name), ...(layout.images ?? []).map((f) => f.name), "action"]);
  const normalizers = Object.fromEntries(Object.entries(meta.normalizers).filter(([k]) => used.has(k) || !aux?.some((f) => f.name === k)));
  const numParams = meta.numParams - [...model.parameters().keys()].filter((k) => model.trainingOnly?.(k)).reduce((a, k) => a + weights[k].length, 0);
  const manifest: Manifest = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    policy: meta.policy,
    config: Object.fromEntries(Object.entries(meta.config as Record<string, unknown>).filter(([k]) => !trainingOnlyKeys.has(k))),
    layout,
    normalizers,
    ...facts,
    opset: OPSET,
    irVersion: IR_VERSION,
    source: { checkpoint: source, step: meta.step, numParams },
    graphs: entries,
  };
  return { manifest, files };
}

/** `scd export`: checkpoint directory → export directory (atomic; an existing `out` needs `force`). */
export function exportCheckpoint(ckpt: string, out: string, opts: { force?: boolean; minimal?: boolean; steps?: number } = {}): Manifest {
  let meta = readCheckpointMeta(ckpt);
  if (opts.steps !== undefined) {
    // the deployment's own K: the manifest's defaultSteps and the fused sampling graph's step count
    if (!(Number.isInteger(opts.steps) && opts.steps >= 1)) throw new ScdError(`--steps must be a whole number ≥ 1, got ${opts.steps}`);
    if (!("defaultSteps" in (policyDef(meta.policy).configSchema as unknown as { shape: Record<string, unknown> }).shape)) throw new ScdError(`--steps: ${meta.policy} has no denoising steps (${ckpt}/checkpoint.json)`);
    meta = { ...meta, config: { ...(meta.config as Record<string, unknown>), defaultSteps: opts.steps } };
  }
  // the source checkpoint as a path from the export directory: no absolute path of this machine in the manifest
  const { manifest, files } = buildExport(meta, readWeights(ckpt), ckpt, path.relative(path.resolve(out), path.resolve(ckpt)), !!opts.minimal);
  // --force replaces an earlier export (a broken one too) or an empty directory, never anything else
  checkOutput(out, { flag: "out", kind: "dir", force: !!opts.force, what: "an ONNX export", isOwn: (d) => {
    try {
      return !!readManifestFile(d);
    } catch {
      return false; // no manifest, or one of another format or version
    }
  } });
  writeDirAtomic(out, (tmp) => {
    for (const [f, bytes] of Object.entries(files)) putFile(tmp, f, bytes);
    putFile(tmp, "manifest.json", JSON.stringify(manifest, null, 2) + "\n");
  });
  return manifest;
}

export function isExportDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, "manifest.json"));
}

/** manifest.json of format and version this scd reads, schema-checked only. */
function readManifestFile(dir: string): Manifest {
  const f = path.join(dir, "manifest.json");
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ScdError(`${dir}: no such directory`);
  if (!fs.existsSync(f)) throw new ScdError(`${dir}: not an ONNX export (no manifest.json; create one with "scd export <checkpoint> --format onnx --out ${dir}")`);
  return readVersionedJson(f, EXPORT_FORMAT, EXPORT_VERSION, Manifest, { version: "export", invalid: "manifest" });
}

/**
 * An export directory's manifest, its parts checked against each other and against its policy's registration
 * (checkManifest: the policies must be registered).
 * @throws ScdError naming `<dir>/manifest.json`, the field and both values; or `dir` when it is not an export.
 */
export function readManifest(dir: string): Manifest {
  const m = readManifestFile(dir);
  checkManifest(m, path.join(dir, "manifest.json"));
  return m;
}

/**
 * Load every graph of a checked manifest (readManifest) with `load` and check it against the manifest (file,
 * checksum, input/output names, types, shapes).
 * @throws ScdError naming the graph file or the manifest on a missing, unloadable, modified or mismatched graph.
 */
export function loadGraphs(dir: string, m: Manifest, load: (bytes: Uint8Array) => GraphRunner): Record<string, GraphRunner> {
  const mf = path.join(dir, "manifest.json");
  const out: Record<string, GraphRunner> = {};
  try {
    for (const [name, g] of Object.entries(m.graphs)) {
      const f = path.join(dir, g.file);
      // checkManifest refuses such names; a manifest that skipped it must still not read outside the export
      if (path.dirname(path.resolve(f)) !== path.resolve(dir)) throw new ScdError(`${mf}: graphs.${name}.file is "${g.file}", outside the export directory`);
      if (!fs.existsSync(f)) throw new ScdError(`${f}: missing (listed in ${mf} as graph "${name}")`);
      const bytes = new Uint8Array(fs.readFileSync(f));
      let r: GraphRunner;
      try {
        r = load(bytes);
      } catch (e) {
        throw new ScdError(`${f}: not a loadable ONNX model (${(e as Error).message.split("\n")[0]})`);
      }
      out[name] = r;
      if (createHash("sha256").update(bytes).digest("hex") !== g.sha256) throw new ScdError(`${f}: contents differ from the sha256 in ${mf} (corrupt or modified; export again)`);
      checkGraphIO(mf, name, g, r);
    }
  } catch (e) {
    for (const r of Object.values(out)) r.dispose();
    throw e;
  }
  return out;
}
