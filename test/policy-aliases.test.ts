/** The entangled baseline's earlier registry name: checkpoints saved as "causal-diffusion" still load, resume and export. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { policyDef, policyNames } from "../src/policies/registry.ts";
import { frameLayout } from "../src/policies/frames.ts";
import { LearnedPolicy, modelWeights } from "../src/policies/learned.ts";
import { loadPolicy } from "../src/checkpoints/load-checkpoint.ts";
import { writeCheckpoint, type CheckpointMeta } from "../src/checkpoints/checkpoint.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { scd } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-alias-"));

test("setup: wasm backend", async () => {
  await initBackend("wasm");
});

test("causal-diffusion resolves to entangled-diffusion, which is the registered name", () => {
  assert.ok(policyNames().includes("entangled-diffusion"));
  assert.not.ok(policyNames().includes("causal-diffusion"), "an alias is not listed as a policy of its own");
  assert.is(policyDef("causal-diffusion"), policyDef("entangled-diffusion"));
});

test("a checkpoint saved as causal-diffusion loads and exports to ONNX (real CLI)", () => {
  const layout = frameLayout([{ name: "observation.state", dim: 2 }], 2);
  const norms = { "observation.state": fitNormalizer(Float32Array.of(-1, -1, 1, 1), 2, "minmax"), action: fitNormalizer(Float32Array.of(-1, -1, 1, 1), 2, "minmax") };
  const def = policyDef("entangled-diffusion");
  const config = def.configSchema.parse({ dModel: 16, layers: 1, heads: 2, horizon: 4, history: 3 });
  const policy = new LearnedPolicy("causal-diffusion", def.create(config, layout, 1), layout, norms);
  const meta: CheckpointMeta = { format: "scd-checkpoint", version: 1, policy: "causal-diffusion", config: config as Record<string, unknown>, layout, normalizers: norms, step: 0, numParams: policy.model.numParams(), seed: 1, info: {} };
  const ck = path.join(dir, "old");
  writeCheckpoint(ck, meta, modelWeights(policy.model));
  policy.dispose();
  const p = loadPolicy(ck);
  assert.is(p.horizon, 4);
  p.dispose();
  const r = scd(["export", ck, "--format", "onnx", "--out", path.join(dir, "onnx")]);
  assert.is(r.code, 0, r.stderr);
  // the manifest names its checkpoint relative to the export, not by an absolute path of the machine
  assert.is(JSON.parse(fs.readFileSync(path.join(dir, "onnx", "manifest.json"), "utf8")).source.checkpoint, "../old");
  const e = scd(["eval", "--policy", path.join(dir, "onnx"), "--env", "reach-obstacle-v1", "--episodes", "1", "--latency", "0"]);
  assert.is(e.code, 0, e.stderr);
});

test.run();
