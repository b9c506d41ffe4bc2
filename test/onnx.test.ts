/**
 * ONNX export parity, for every registered policy at each of its small configs (its registration's smallConfigs:
 * several layers and heads, both objectives, decoder kinds, frames with and without the previous action; histories
 * far shorter than the rollout): the graphs traced from the model's code, on ONNX Runtime, and the tfjs model give
 * the same chunk for the same observation history and noise (max |Δ| ≤ 1e-4, normalized units) at every frame
 * of a 200-frame rollout that crosses the history window many times. Weights are perturbed away from their
 * initialization so every parameter (LayerNorm gains, output scale, …) moves the chunk. Also the shipped Push-T
 * checkpoint, and batch 3 (the batch dimension is dynamic).
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
import { LearnedPolicy, modelWeights, loadWeightsInto } from "../src/policies/learned.ts";
import { loadPolicy } from "../src/checkpoints/load-checkpoint.ts";
import { chunkParity } from "../src/deploy/parity.ts";
import { writeCheckpoint, readCheckpointMeta, readWeights, type CheckpointMeta } from "../src/checkpoints/checkpoint.ts";
import type { NormalizedChunkPolicy } from "../src/policies/normalized.ts";
import { exportCheckpoint, buildExport } from "../src/checkpoints/export-dir.ts";
import { loadExport } from "../src/deploy/onnx-policy.ts";
import { nodeRunner } from "../src/deploy/ort-node.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { Rng } from "../src/util/rng.ts";
import { ROOT } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-onnx-"));
const OBS = [{ name: "observation.state", dim: 5 }];
const layout = frameLayout(OBS, 2);
const norms = { "observation.state": fitNormalizer(Float32Array.of(-1, -2, -1, 0, -3, 1, 2, 3, 5, 3), 5, "minmax"), action: fitNormalizer(Float32Array.of(0, 0, 10, 10), 2, "minmax") };
const TOL = 1e-4;

/** Move every parameter away from its initialization by noise of about its own scale. */
function perturbed(w: Record<string, Float32Array>, seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  return Object.fromEntries(Object.entries(w).map(([k, v]) => {
    const rms = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
    const s = 0.5 * Math.max(rms, 0.1);
    return [k, v.map((x) => x + s * rng.normal())];
  }));
}

/** A checkpoint as `scd train` writes it (the frame layout from the policy's frame options), weights perturbed. */
function checkpoint(name: string, cfgRaw: Record<string, unknown>, out: string): void {
  const def = policyDef(name);
  const cfg = def.configSchema.parse(cfgRaw) as Record<string, unknown>;
  const L = frameLayout(OBS, 2, def.frameOptions?.(cfg) ?? {});
  const model = def.create(cfg, L, 3);
  loadWeightsInto(model, perturbed(modelWeights(model), 11), "test");
  const meta: CheckpointMeta = { format: "scd-checkpoint", version: 1, policy: name, config: cfg, layout: L, normalizers: norms, step: 0, numParams: model.numParams(), seed: 3, info: {} };
  writeCheckpoint(out, meta, modelWeights(model));
  model.dispose();
}

/** chunkParity with observations from `obs(t, rng)`, one rng (seed 7) for the whole roll-out. */
function parity(a: NormalizedChunkPolicy, b: NormalizedChunkPolicy, frames: number, steps: number, obs: (t: number, rng: Rng) => Record<string, Float32Array>): number {
  const rng = new Rng(7);
  return chunkParity(a, b, frames, steps, (t) => obs(t, rng));
}

const stateObs = (_t: number, rng: Rng) => ({ "observation.state": Float32Array.from({ length: 5 }, () => -2 + 4 * rng.next()) });

test("setup: wasm backend; every registered policy has an ONNX export", async () => {
  await initBackend("wasm");
  for (const n of policyNames()) assert.ok(policyDef(n).onnx, `policy "${n}" is registered without an ONNX export (its registration's onnx: graphs traced from its model, src/policies/${n}/export.ts)`);
});

for (const name of policyNames()) {
  (policyDef(name).smallConfigs ?? [{}]).forEach((cfg, ci) => {
    test(`${name} (config ${ci}): ONNX = tfjs within ${TOL} over 200 frames`, () => {
      const ck = path.join(dir, `${name}-${ci}`), ex = path.join(dir, `${name}-${ci}-onnx`);
      checkpoint(name, cfg, ck);
      exportCheckpoint(ck, ex);
      const loaded = loadExport(ex, (b) => nodeRunner(b));
      const tfp = loadPolicy(ck), ox = loaded.policy();
      const worst = parity(tfp, ox, 200, 4, stateObs);
      console.log(`  ${name} config ${ci}: max |Δ| ${worst.toExponential(2)} over 200 frames`);
      assert.ok(worst <= TOL, `max |Δ| ${worst}`);
      // and the unnormalized chunks agree too
      tfp.reset(5);
      ox.reset(5);
      tfp.observe({ obs: stateObs(0, new Rng(1)), prevAction: null });
      ox.observe({ obs: stateObs(0, new Rng(1)), prevAction: null });
      const a = tfp.sampleChunk({ seed: 9 }), b = ox.sampleChunk({ seed: 9 });
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-3, `action ${i}: ${a[i]} vs ${b[i]}`);
      tfp.dispose();
      loaded.dispose();
    });
  });
}

test("the shipped Push-T SCD checkpoint: ONNX = tfjs within 1e-4 over 200 frames at K = 10", () => {
  const ck = path.join(ROOT, "assets/checkpoints/scd-pusht"), ex = path.join(dir, "pusht-onnx");
  exportCheckpoint(ck, ex);
  const loaded = loadExport(ex, (b) => nodeRunner(b));
  const tfp = loadPolicy(ck), ox = loaded.policy();
  // plausible Push-T keypoint observations: points in the 512 × 512 workspace drifting over time
  const obs = (t: number, rng: Rng) => ({ "observation.keypoints": Float32Array.from({ length: 18 }, (_, i) => 256 + 150 * Math.sin(0.05 * t + i) + 5 * rng.normal()), "observation.agent_pos": Float32Array.of(256 + 100 * Math.cos(0.03 * t), 256 + 100 * Math.sin(0.04 * t)) });
  const worst = parity(tfp, ox, 200, 10, obs);
  console.log(`  shipped Push-T checkpoint: max |Δ| ${worst.toExponential(2)} over 200 frames`);
  assert.ok(worst <= TOL, `max |Δ| ${worst}`);
  tfp.dispose();
  loaded.dispose();
});

test("scd's fused decoder_sample (one runtime call per chunk at the default K) = the K-step path, with and without a guide; an export without it (--minimal, or made before it) still loads", () => {
  const ex = path.join(dir, "pusht-onnx"), old = path.join(dir, "pusht-onnx-old");
  const manifest = JSON.parse(fs.readFileSync(path.join(ex, "manifest.json"), "utf8"));
  assert.ok(manifest.graphs.decoder_sample, "the export has decoder_sample");
  // `scd export --minimal` leaves the optional graph out: the same files an export made before it existed has
  exportCheckpoint(path.join(ROOT, "assets/checkpoints/scd-pusht"), old, { minimal: true });
  assert.equal(fs.readdirSync(old).sort(), ["decoder_condition.onnx", "decoder_denoise.onnx", "encoder_step.onnx", "manifest.json"]);
  const [la, lb] = [loadExport(ex, (b) => nodeRunner(b)), loadExport(old, (b) => nodeRunner(b))];
  type M = { reset(b: number): void; observe(f: Float32Array): void; sample(k: number, r: Rng, g?: { target: Float32Array; weights: Float32Array }): Float32Array; g: Record<string, unknown> };
  const [ma, mb] = [la.policy(), lb.policy()].map((p) => (p as unknown as { model: M }).model);
  assert.ok(ma.g.decoder_sample && !mb.g.decoder_sample);
  ma.reset(1);
  mb.reset(1);
  const rng = new Rng(5), F = manifest.layout.frameDim, n = 16 * 2;
  const guide = { target: Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5), weights: Float32Array.from({ length: n }, (_, i) => (i < 8 ? 1 : i < 16 ? 0.5 : 0)) };
  let worst = 0;
  for (let t = 0; t < 20; t++) {
    const f = Float32Array.from({ length: F }, () => rng.normal());
    ma.observe(f);
    mb.observe(f);
    for (const g of [undefined, guide]) {
      const a = ma.sample(10, new Rng(t), g), b = mb.sample(10, new Rng(t), g);
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      if (g) for (let i = 0; i < 8; i++) assert.ok(Math.abs(a[i] - g.target[i]) < 1e-5, "weight-1 values end on the target");
    }
  }
  console.log(`  fused decoder_sample vs K-step path: max |Δ| ${worst.toExponential(2)} over 20 frames × 2`);
  assert.ok(worst <= 1e-5, `max |Δ| ${worst}`);
  la.dispose();
  lb.dispose();
  // `scd export --steps 4`: the deployment's own K, fused; the same chunk as the K-step path at K = 4
  const k4 = path.join(dir, "pusht-onnx-k4");
  assert.is(exportCheckpoint(path.join(ROOT, "assets/checkpoints/scd-pusht"), k4, { steps: 4 }).defaultSteps, 4);
  const l4 = loadExport(k4, (b) => nodeRunner(b)), lo = loadExport(old, (b) => nodeRunner(b));
  const [m4, mo] = [l4.policy(), lo.policy()].map((p) => (p as unknown as { model: M }).model);
  m4.reset(1);
  mo.reset(1);
  const f = Float32Array.from({ length: F }, () => rng.normal());
  m4.observe(f);
  mo.observe(f);
  const a4 = m4.sample(4, new Rng(1)), b4 = mo.sample(4, new Rng(1));
  assert.ok(a4.every((v, i) => Math.abs(v - b4[i]) <= 1e-5), "K = 4 fused = K = 4 per call");
  l4.dispose();
  lo.dispose();
  assert.throws(() => exportCheckpoint(path.join(dir, "mlp-bc-0"), path.join(dir, "mlp-k4"), { steps: 4 }), /--steps: mlp-bc has no denoising steps/);
});

test("batch is dynamic: 3 streams at once equal 3 single streams (scd)", () => {
  const ex = path.join(dir, "scd-0-onnx");
  const loaded = loadExport(ex, (b) => nodeRunner(b));
  const p3 = loaded.policy(3), singles = [0, 1, 2].map(() => loaded.policy(1));
  const m3 = (p3 as unknown as { model: { reset(b: number): void; observe(f: Float32Array): void; sample(k: number, r: Rng): Float32Array } }).model;
  const ms = singles.map((s) => (s as unknown as { model: typeof m3 }).model);
  m3.reset(3);
  ms.forEach((m) => m.reset(1));
  const rng = new Rng(4), F = readCheckpointMeta(path.join(dir, "scd-0")).layout.frameDim; // the export's own frame size
  for (let t = 0; t < 12; t++) {
    const f = Float32Array.from({ length: 3 * F }, () => rng.normal());
    m3.observe(f);
    ms.forEach((m, i) => m.observe(f.slice(i * F, (i + 1) * F)));
  }
  // the batched sample draws noise for all 3 streams from one rng: feed each single stream its slice of it
  const both = m3.sample(4, new Rng(8));
  const n = both.length / 3;
  assert.is(n, 6 * 2);
  const noise = new Rng(8).normals(3 * n);
  ms.forEach((m, i) => {
    const one = m.sample(4, { normals: () => noise.slice(i * n, (i + 1) * n) } as unknown as Rng);
    for (let j = 0; j < n; j++) assert.ok(Math.abs(one[j] - both[i * n + j]) < 1e-5, `stream ${i} value ${j}`);
  });
  loaded.dispose();
});

test("checkpoint.json config fields the model does not know and weights it does not have are refused, never exported wrong", () => {
  const meta = readCheckpointMeta(path.join(dir, "scd-0"));
  const w = readWeights(path.join(dir, "scd-0"));
  assert.throws(() => buildExport({ ...meta, config: { ...meta.config, decoderKind: "unet" } }, w, "ck"), /ck\/checkpoint\.json: config field "decoderKind" = "unet" is not supported/);
  assert.throws(() => buildExport(meta, { ...w, "decoder.extra.w": new Float32Array(4) }, "ck"), /ck\/weights\.msgpack: weights have unknown parameters: decoder\.extra\.w/);
  const { ["decoder.out.b"]: _drop, ...missing } = w;
  void _drop;
  assert.throws(() => buildExport(meta, missing, "ck"), /weights have no "decoder\.out\.b"/);
});

test.run();
