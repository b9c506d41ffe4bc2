/**
 * SCD's training-only auxiliary target (config `auxTarget`, src/policies/scd/model.ts): the layout records the
 * target feature (layout.aux), windows carry it normalized at every frame, the loss is the chunk loss plus
 * weight × MSE of the aux head on the frame's image features (checked exactly against a model without the head:
 * the rest of the model initialises the same), train() saves and resumes it, and the ONNX export leaves the head
 * out and still matches tfjs. Bad configs fail with one ScdError naming the feature. Data: three shipped Push-T
 * demonstrations with frames rendered from their state (test/image-demos.ts).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as tf from "@tensorflow/tfjs";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../src/backend/index.ts";
import "../src/policies/index.ts";
import "../src/envs/index.ts";
import { ScdError } from "../src/errors.ts";
import { loadDataset } from "../src/datasets/load.ts";
import { affine } from "../src/datasets/normalizer.ts";
import { writePushTImageDemos, assertLossFalls } from "./image-demos.ts";
import { policyDef, parsePolicyConfig } from "../src/policies/registry.ts";
import { prepareTrainData, TrainSession } from "../src/train/session.ts";
import { TrainConfig } from "../src/train/config.ts";
import { train } from "../src/train/train.ts";
import { buildWindowsAsync } from "../src/policies/frames.ts";
import { readCheckpointMeta, readWeights } from "../src/checkpoints/checkpoint.ts";
import { loadPolicy } from "../src/checkpoints/load-checkpoint.ts";
import { exportCheckpoint } from "../src/checkpoints/export-dir.ts";
import { loadExport } from "../src/deploy/onnx-policy.ts";
import { nodeRunner } from "../src/deploy/ort-node.ts";
import { chunkParity } from "../src/deploy/parity.ts";
import { makeEnv } from "../src/envs/registry.ts";
import type { ScdModel } from "../src/policies/scd/model.ts";
import { Rng } from "../src/util/rng.ts";
import { tfOps } from "../src/nn/tf-ops.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-aux-"));
const IMG = "observation.image", OBS = [IMG, "observation.agent_pos"], STATE = "observation.state";
const data = path.join(dir, "pusht3-images.scdd");
const IMAGE = { channels: [8, 16], blocks: 1, groups: 4, keypoints: 8, dOut: 16 };
const SMALL = { dModel: 32, encLayers: 1, heads: 2, decDModel: 32, decLayers: 1, horizon: 8, image: IMAGE };
const AUX = { ...SMALL, auxTarget: { feature: STATE, weight: 3 } };
const trainCfg = (extra: Record<string, unknown> = {}) => TrainConfig.parse({ dataset: data, out: path.join(dir, "unused"), obsFeatures: OBS, batch: 8, lr: 3e-3, warmup: 1, steps: 40, emaPower: 0.5, ...extra });
const session = async (policyConfig: Record<string, unknown>) => {
  const def = policyDef("scd"), cfg = parsePolicyConfig(def, policyConfig, "t");
  return new TrainSession(def, cfg, prepareTrainData((await loadDataset(data)).buffer, trainCfg(), def, cfg, data), trainCfg());
};

test("setup: 3 demonstrations with rendered frames", async () => {
  await initBackend("wasm");
  writePushTImageDemos(data, 3);
});

test("layout.aux and windows: the target normalized at every frame, beside the images", async () => {
  const s = await session(AUX), d = s.data;
  assert.equal(d.layout.aux, [{ name: STATE, dim: 5 }]);
  assert.equal(d.layout.obsFeatures, [{ name: "observation.agent_pos", dim: 2 }], "the target is not observed");
  const anchors = [d.trainAnchors[0], d.trainAnchors[37]];
  const w = await buildWindowsAsync(d.buffer, d.layout, d.norms, anchors, 2, 8, 2, new Rng(1), d.episodeOf);
  assert.is(w.aux!.length, 2 * 2 * 5);
  // window b, position 1 is the anchor itself
  const st = d.buffer.data[STATE] as Float32Array, a = affine(d.norms[STATE]);
  for (let b = 0; b < 2; b++)
    for (let k = 0; k < 5; k++) assert.ok(Math.abs(w.aux![(b * 2 + 1) * 5 + k] - (st[anchors[b] * 5 + k] * a.scale[k] + a.shift[k])) < 1e-6);
  s.dispose();
});

test("the loss is the chunk loss + weight × the aux head's MSE (same batch, same draws, a model without the head)", async () => {
  const plain = await session(SMALL), aux = await session(AUX);
  const d = aux.data, m = aux.model as ScdModel;
  const b = await buildWindowsAsync(d.buffer, d.layout, d.norms, Array.from(d.trainAnchors.slice(0, 6)), 2, 8, 2, new Rng(4), d.episodeOf);
  const lp = tf.tidy(() => plain.model.loss(b, new Rng(9)).dataSync()[0]), la = tf.tidy(() => m.loss(b, new Rng(9)).dataSync()[0]);
  // the head on the same random crops (trainCrops draws first from the loss's rng), frames inside the episode only
  const mse = tf.tidy(() => {
    const feats = m.imagePath.encode(tfOps, m.imagePath.trainCrops(b.images, b.B * b.L, new Rng(9)), [b.B, b.L]);
    const y = m.auxHead!.l2.forward(m.auxHead!.l1.forward(tf.concat(feats, 2).reshape([b.B * b.L, -1]), "relu"));
    const err = y.sub(tf.tensor(b.aux!, [b.B * b.L, 5])).square().sum(1).arraySync() as number[];
    const rows = err.filter((_, r) => b.keyPad[r] === 0);
    return rows.reduce((x, v) => x + v, 0) / (rows.length * 5);
  });
  assert.ok(b.keyPad.some((v) => v === 1), "the batch has a padded position (an anchor at an episode's start)");
  console.log(`  chunk ${lp.toFixed(4)}, with aux ${la.toFixed(4)}, aux MSE ${mse.toFixed(4)}`);
  assert.ok(mse > 0.01, "a fresh head does not already predict the state");
  assert.ok(Math.abs(la - (lp + 3 * mse)) < 1e-4 * Math.max(1, la), `${la} vs ${lp} + 3 × ${mse}`);
  const parts = m.lossParts()!;
  assert.ok(Math.abs(parts.chunk - lp) < 1e-5 && Math.abs(parts.aux - mse) < 1e-5, JSON.stringify(parts));
  assert.is(plain.model.lossParts?.() ?? null, null, "one term without auxTarget");
  plain.dispose();
  aux.dispose();
});

test("training with auxTarget: loss falls, no tensor leaks per step", async () => {
  const s = await session(AUX);
  await assertLossFalls(s, 40);
  s.dispose();
});

const run = path.join(dir, "run"), ckpt = path.join(run, "checkpoint");
test("train() saves layout.aux and the head, --resume keeps training it, metrics log the aux MSE, the export leaves it out and matches tfjs", async () => {
  await train(trainCfg({ out: run, steps: 4, ckptEvery: 2, valEvery: 2, policyConfig: AUX }), { quiet: true });
  await train(trainCfg({ out: run, steps: 6, ckptEvery: 2, valEvery: 2, policyConfig: AUX }), { quiet: true, resume: true });
  const meta = readCheckpointMeta(ckpt), w = readWeights(ckpt);
  assert.is(meta.step, 6);
  assert.equal(meta.layout.aux, [{ name: STATE, dim: 5 }]);
  assert.ok(w["aux.l1.w"] && w["aux.l2.w"], "the head's weights are saved");
  const rows = fs.readFileSync(path.join(run, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(rows.every((r) => r.auxLoss > 0 && r.loss > 0), "every step logs its chunk loss and aux MSE");
  assert.ok(rows.filter((r) => r.valLoss !== undefined).every((r) => r.valAuxLoss > 0), "held-out aux MSE beside the held-out loss");
  const ex = path.join(dir, "export"), m = exportCheckpoint(ckpt, ex);
  assert.not.ok(JSON.stringify(m.graphs).includes("aux."), "no graph names the head");
  // the deployment holds nothing training-only: config, layout, normalizers, parameter count
  assert.is(m.config.auxTarget, undefined);
  assert.is(m.layout.aux, undefined);
  assert.is(m.normalizers[STATE], undefined);
  assert.is(m.source.numParams, meta.numParams - w["aux.l1.w"].length - w["aux.l1.b"].length - w["aux.l2.w"].length - w["aux.l2.b"].length);
  const loaded = loadExport(ex, (b) => nodeRunner(b)), tfp = loadPolicy(ckpt), ox = loaded.policy();
  const env = await makeEnv("pusht-image-v1");
  const worst = chunkParity(tfp, ox, 6, 10, (t, executed) => (t === 0 || !executed ? env.reset({ seed: 100002 }).obs : env.step(executed).obs));
  assert.ok(worst <= 1e-4, `max |Δ| ${worst}`);
  tfp.dispose();
  loaded.dispose();
});

test("bad auxTarget: a feature the dataset lacks, or no image features → one ScdError naming it", async () => {
  const def = policyDef("scd"), buf = (await loadDataset(data)).buffer;
  const cfg = parsePolicyConfig(def, { ...SMALL, auxTarget: { feature: "observation.pose" } }, "t");
  assert.throws(() => prepareTrainData(buf, trainCfg(), def, cfg, data), (e: Error) => e instanceof ScdError && /auxiliary target feature "observation\.pose" is not in the dataset/.test(e.message));
  const lowDim = parsePolicyConfig(def, { ...SMALL, auxTarget: { feature: STATE } }, "t");
  const d = prepareTrainData(buf, trainCfg({ obsFeatures: ["observation.agent_pos"] }), def, lowDim, data);
  assert.throws(() => def.create(lowDim, d.layout, 0), (e: Error) => e instanceof ScdError && /auxTarget \(observation\.state\) regresses from image features/.test(e.message));
  // a misspelt key is refused, not dropped; a layout without the config's target is refused, not trained without it
  assert.throws(() => parsePolicyConfig(def, { ...SMALL, auxTarget: { feature: STATE, wieght: 5 } }, "t"), /wieght/);
  const withImages = prepareTrainData(buf, trainCfg(), def, parsePolicyConfig(def, SMALL, "t"), data);
  assert.throws(() => def.create(parsePolicyConfig(def, AUX, "t"), withImages.layout, 0), (e: Error) => e instanceof ScdError && /layout\.aux \[\] does not match config auxTarget \(observation\.state\)/.test(e.message));
});

test.run();
