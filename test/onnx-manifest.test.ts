/**
 * An ONNX export's manifest.json is checked at load as a checkpoint's checkpoint.json is (src/checkpoints/manifest-check.ts):
 * an edited manifest (normalizers that do not fit the layout, horizon / actionDim / frame size the graphs do not take,
 * a relabelled policy, a graph file outside the directory) is refused through the real CLI with one `scd: error:`
 * line naming the file, the field and both values (exit 2), before any tick runs; genuine exports of every registered
 * policy pass, and each relabelled to every other policy is refused naming both.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../src/policies/index.ts";
import "../src/policies/onnx.ts";
import { initBackend } from "../src/backend/index.ts";
import { policyNames, policyDef } from "../src/policies/registry.ts";
import { frameLayout } from "../src/policies/frames.ts";
import { modelWeights } from "../src/policies/learned.ts";
import { writeCheckpoint, type CheckpointMeta } from "../src/checkpoints/checkpoint.ts";
import { exportCheckpoint, readManifest } from "../src/checkpoints/export-dir.ts";
import { loadExport } from "../src/deploy/onnx-policy.ts";
import { nodeRunner } from "../src/deploy/ort-node.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { ScdError } from "../src/errors.ts";
import { scd, userError, ROOT } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-onnx-manifest-"));
const SHIPPED = path.join(ROOT, "assets/checkpoints/scd-pusht");
const EXPORT = path.join(dir, "pusht-onnx");
type M = Record<string, any>;

/** A copy of the good export with its manifest edited by `f`. */
function edited(name: string, f: (m: M) => void): string {
  const d = path.join(dir, name);
  fs.cpSync(EXPORT, d, { recursive: true });
  const m = JSON.parse(fs.readFileSync(path.join(d, "manifest.json"), "utf8"));
  f(m);
  fs.writeFileSync(path.join(d, "manifest.json"), JSON.stringify(m, null, 2));
  return d;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const ev = (d: string) => ["eval", "--policy", d, "--env", "pusht-v1", "--episodes", "1", "--latency", "0"];
/** `scd eval` on the edited export: exit 2, one line naming <name>/manifest.json and `message`. */
const refused = (name: string, f: (m: M) => void, message: string) => userError(ev(edited(name, f)), new RegExp(`${esc(`${name}/manifest.json: ${message}`)}$`));

test("setup: the shipped checkpoint exported through the CLI", () => {
  const r = scd(["export", SHIPPED, "--format", "onnx", "--out", EXPORT]);
  assert.is(r.code, 0, r.stderr);
  const m = JSON.parse(fs.readFileSync(path.join(EXPORT, "manifest.json"), "utf8"));
  // the edits below assume the shipped layout: keypoints [18] + agent_pos [2], no previous action, H 16, A 2
  assert.equal([m.layout.frameDim, m.layout.actionDim, m.horizon, m.normalizers["observation.agent_pos"].min.length], [20, 2, 16, 2]);
});

test("normalizers that do not fit the layout are refused at load", () => {
  refused("norm-size", (m) => ((m.normalizers["observation.agent_pos"].min = [0]), (m.normalizers["observation.agent_pos"].max = [512])), `normalizers["observation.agent_pos"] has dimension 1, the layout says 2`);
  refused("norm-action", (m) => delete m.normalizers.action, `normalizers has no entry for "action" (the layout needs observation.keypoints [18], observation.agent_pos [2], action [2])`);
});

test("horizon, actionDim and frame sizes the graphs do not take are refused at load", () => {
  refused("horizon", (m) => (m.horizon = 8), "horizon is 8, but its config and layout (and the graphs' shapes) give 16");
  refused("config-horizon", (m) => (m.config.horizon = 8), `graphs.decoder_denoise.inputs[0] "x" is float32 [batch, 16, 2], but scd's export for this config and layout (frameDim 20, actionDim 2) declares float32 [batch, 8, 2]`);
  refused("action-dim", (m) => (m.actionDim = 3), "actionDim is 3, but layout.actionDim is 2");
  // every part of the manifest says 3 actions, but the graphs were built for 2
  const threeActions = (m: M) => {
    m.actionDim = m.layout.actionDim = 3;
    m.normalizers.action.min.push(0);
    m.normalizers.action.max.push(1);
  };
  refused("action-dim-all", threeActions, `graphs.decoder_denoise.inputs[0] "x" is float32 [batch, 16, 2], but scd's export for this config and layout (frameDim 20, actionDim 3) declares float32 [batch, 16, 3]`);
  refused("frame-dim", (m) => (m.layout.frameDim = 22), "layout.frameDim is 22, but its features give 20 (observation.keypoints [18], observation.agent_pos [2], action [2])");
  const widerFrame = (m: M) => {
    m.layout.obsFeatures[1].dim = 4;
    m.layout.frameDim = 22;
    m.normalizers["observation.agent_pos"].min.push(0, 0);
    m.normalizers["observation.agent_pos"].max.push(1, 1);
  };
  refused("frame-all", widerFrame, `graphs.encoder_step.inputs[0] "frame" is float32 [batch, 20], but scd's export for this config and layout (frameDim 22, actionDim 2) declares float32 [batch, 22]`);
  // the manifest's own entries changed too: the graph file itself disagrees (ONNX Runtime's input metadata)
  refused("frame-entry", (m) => (widerFrame(m), (m.graphs.encoder_step.inputs[0].shape = ["batch", 22])), `graphs.encoder_step.inputs[0] "frame" is float32 [batch, 22], but encoder_step.onnx has float32 [batch, 20]`);
});

test("a relabelled policy and a graph file outside the export are refused at load", () => {
  refused("relabel", (m) => (m.policy = "entangled-diffusion"), `policy is "entangled-diffusion", but its config and graphs (encoder_step, decoder_condition, decoder_denoise, decoder_sample) are a "scd" export`);
  refused("escape", (m) => (m.graphs.encoder_step.file = "../../../../package.json"), `graphs.encoder_step.file is "../../../../package.json", outside the export directory (it must be a file name in it, e.g. "encoder_step.onnx")`);
  refused("absolute", (m) => (m.graphs.decoder_denoise.file = path.join(EXPORT, "decoder_denoise.onnx")), `graphs.decoder_denoise.file is "${path.join(EXPORT, "decoder_denoise.onnx")}", outside the export directory (it must be a file name in it, e.g. "decoder_denoise.onnx")`);
  // scd run refuses at start-up, before connecting, instead of running on the fallback
  const d = path.join(dir, "norm-action");
  userError(["run", "--policy", d, "--ros", "ws://127.0.0.1:9", "--map", path.join(ROOT, "examples/ros/reach_map.json")], new RegExp(`${esc(`${d}/manifest.json: normalizers has no entry for "action"`)}`));
});

test("every registered policy: a genuine export loads; relabelled to any other policy it is refused naming both", async () => {
  await initBackend("wasm");
  const OBS = [{ name: "observation.state", dim: 5 }];
  const norms = { "observation.state": fitNormalizer(Float32Array.of(-1, -2, -1, 0, -3, 1, 2, 3, 5, 3), 5, "minmax"), action: fitNormalizer(Float32Array.of(0, 0, 10, 10), 2, "minmax") };
  for (const name of policyNames()) {
    const def = policyDef(name);
    const cfg = def.configSchema.parse(def.smallConfigs?.[0] ?? {}) as Record<string, unknown>; // its registration's first small config
    const L = frameLayout(OBS, 2, def.frameOptions?.(cfg) ?? {});
    const model = def.create(cfg, L, 3);
    const meta: CheckpointMeta = { format: "scd-checkpoint", version: 1, policy: name, config: cfg, layout: L, normalizers: norms, step: 0, numParams: model.numParams(), seed: 3, info: {} };
    const ck = path.join(dir, `ck-${name}`), ex = path.join(dir, `ex-${name}`);
    writeCheckpoint(ck, meta, modelWeights(model));
    model.dispose();
    exportCheckpoint(ck, ex);
    loadExport(ex, (b) => nodeRunner(b)).dispose(); // the checks and ONNX Runtime's graphs accept it
    const mf = path.join(ex, "manifest.json"), good = fs.readFileSync(mf, "utf8");
    for (const other of policyNames().filter((p) => p !== name)) {
      fs.writeFileSync(mf, JSON.stringify({ ...JSON.parse(good), policy: other }));
      assert.throws(() => readManifest(ex), (e: Error) => e instanceof ScdError && e.message === `${mf}: policy is "${other}", but its config and graphs (${Object.keys(JSON.parse(good).graphs).join(", ")}) are a "${name}" export`, `${name} relabelled ${other}`);
    }
    fs.writeFileSync(mf, good);
  }
});

test.run();
