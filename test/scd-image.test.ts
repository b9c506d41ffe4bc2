/**
 * SCD on camera frames (src/policies/scd: config `image`, ScdModel's image encoders; frames.ts: images beside the
 * frame vector): a tiny image dataset — three shipped Push-T demonstrations with their 96 × 96 frames rendered
 * from the recorded state (src/envs/pusht/pixels.ts, Diffusion Policy's renderer), written as a .scdd whose images
 * are read lazily — then training steps where the loss falls, `train()`'s checkpoint saved and loaded back, a live
 * episode on pusht-image-v1, ONNX export parity (tfjs vs ONNX Runtime), the CLI commands of docs/training.md, bad
 * image features refused by name, and the shipped low-dimensional checkpoint giving the chunk it gave before.
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
import { writePushTImageDemos, assertLossFalls } from "./image-demos.ts";
import { policyDef, parsePolicyConfig } from "../src/policies/registry.ts";
import { prepareTrainData, TrainSession } from "../src/train/session.ts";
import { TrainConfig } from "../src/train/config.ts";
import { train } from "../src/train/train.ts";
import { loadPolicy } from "../src/checkpoints/load-checkpoint.ts";
import { readCheckpointMeta, readWeights } from "../src/checkpoints/checkpoint.ts";
import { exportCheckpoint } from "../src/checkpoints/export-dir.ts";
import { loadExport } from "../src/deploy/onnx-policy.ts";
import { nodeRunner } from "../src/deploy/ort-node.ts";
import { chunkParity } from "../src/deploy/parity.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { layoutFromBuffer } from "../src/policies/frames.ts";
import { randomCrop, randomCropArray } from "../src/nn/image-encoder.ts";
import { Rng } from "../src/util/rng.ts";
import { ROOT, scd } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-image-"));
const IMG = "observation.image", OBS = [IMG, "observation.agent_pos"];
const data = path.join(dir, "pusht3-images.scdd");
/** A small SCD with a small image encoder: every image path, a fraction of the default's cost. */
const SMALL = { dModel: 32, encLayers: 1, heads: 2, decDModel: 32, decLayers: 1, horizon: 8, image: { channels: [8, 16], blocks: 1, groups: 4, keypoints: 8, dOut: 16 } };
const trainCfg = (extra: Record<string, unknown> = {}) => TrainConfig.parse({ dataset: data, out: path.join(dir, "unused"), obsFeatures: OBS, batch: 8, lr: 3e-3, warmup: 1, steps: 40, emaPower: 0.5, ...extra });

test("setup: a .scdd of 3 demonstrations with rendered 96 × 96 frames, the images lazy when loaded", async () => {
  await initBackend("wasm");
  writePushTImageDemos(data, 3);
  const buf = (await loadDataset(data)).buffer;
  assert.ok(buf.frames?.[IMG], "image frames are read on demand");
  assert.is(buf.data[IMG], undefined);
});

test("layout and normalizers: the image beside the frame vector, per-channel image normalizer, the config completed", async () => {
  const def = policyDef("scd"), buf = (await loadDataset(data)).buffer;
  const d = prepareTrainData(buf, trainCfg(), def, parsePolicyConfig(def, {}, "t"), data);
  assert.equal(d.layout.images, [{ name: IMG, shape: [96, 96, 3] }]);
  assert.equal(d.layout.obsFeatures, [{ name: "observation.agent_pos", dim: 2 }]);
  assert.is(d.layout.frameDim, 2);
  assert.equal(d.norms[IMG], { mode: "image", shape: [96, 96, 3] });
  const s = new TrainSession(def, parsePolicyConfig(def, {}, "t"), d, trainCfg());
  // the defaults the model was built with are recorded: window = history = 2, both positions trained
  assert.equal((s.policyConfig.image as { channels: number[] }).channels, [16, 32, 64, 64]);
  assert.is(s.model.window, 2);
  assert.is(s.model.positionsPerWindow, 2);
  s.dispose();
});

test("bad image features: one ScdError naming the feature and its shape (dataset and live observation)", async () => {
  const def = policyDef("scd"), buf = (await loadDataset(data)).buffer;
  const bad = (schema: Record<string, { shape: number[]; dtype?: "uint8" | "float32" }>) => ({ ...buf, schema: { ...buf.schema, ...schema } });
  assert.throws(() => layoutFromBuffer(bad({ [IMG]: { shape: [96, 96, 4], dtype: "uint8" } }), [IMG], { images: true }), (e: Error) => e instanceof ScdError && /"observation\.image" must be uint8 \[H, W, 3\].*got uint8 \[96,96,4\]/.test(e.message));
  assert.throws(() => layoutFromBuffer(bad({ [IMG]: { shape: [96, 96, 3], dtype: "float32" } }), [IMG], { images: true }), /"observation\.image" must be uint8 \[H, W, 3\].*got float32 \[96,96,3\]/);
  assert.throws(() => prepareTrainData(buf, trainCfg(), policyDef("mlp-bc"), {}, data), /"observation\.image" is an image \[96,96,3\]: this policy has no image encoder/);
  const big = parsePolicyConfig(def, { image: { crop: 100 } }, "t"), d = prepareTrainData(buf, trainCfg(), def, big, data);
  assert.throws(() => new TrainSession(def, big, d, trainCfg()), /image feature "observation\.image" \[96,96,3\] is smaller than the crop 100/);
});

test("training crops on arrays (randomCropArray) = randomCrop's tensor slices for the same rng", () => {
  const n = 3, x = Float32Array.from({ length: n * 10 * 12 * 3 }, (_, i) => i);
  const a = randomCropArray(x, n, [10, 12, 3], 7, new Rng(4));
  const t = tf.tensor(x, [n, 10, 12, 3]), b = randomCrop(t, 7, new Rng(4));
  assert.equal(Array.from(a), Array.from(b.dataSync()));
  tf.dispose([t, b]);
  assert.throws(() => randomCropArray(x, n, [10, 12, 3], 11, new Rng(4)), /crop size 11 must be an integer from 1 to 10/);
});

let lossFell = false;
test("training on frames: lazy windows, loss falls over 40 steps, no tensor leaks per step", async () => {
  const def = policyDef("scd"), cfg = parsePolicyConfig(def, SMALL, "t");
  const d = prepareTrainData((await loadDataset(data)).buffer, trainCfg(), def, cfg, data);
  const s = new TrainSession(def, cfg, d, trainCfg());
  await assertLossFalls(s, 40);
  const base = tf.memory().numTensors;
  const v = await s.valLossAsync();
  assert.ok(v !== null && Number.isFinite(v) && v === (await s.valLossAsync()), "held-out loss is finite and repeatable");
  assert.is(tf.memory().numTensors, base, "tensors after validation");
  lossFell = true;
  s.dispose();
});

const run = path.join(dir, "run"), ckpt = path.join(run, "checkpoint");
test("train() writes a checkpoint that loads back: config with the image encoder, layout with the image, same weights", async () => {
  assert.ok(lossFell);
  await train(trainCfg({ out: run, steps: 6, valEvery: 3, ckptEvery: 0, policyConfig: SMALL }), { quiet: true });
  const meta = readCheckpointMeta(ckpt);
  assert.equal(meta.layout.images, [{ name: IMG, shape: [96, 96, 3] }]);
  assert.equal((meta.config.image as { crop: number }).crop, 84);
  const p = loadPolicy(ckpt), w = readWeights(ckpt);
  assert.ok(Object.keys(w).some((k) => k.startsWith("image0.stem.")), "the image encoder's weights are saved");
  for (const [k, v] of p.model.parameters()) assert.equal(Array.from(v.dataSync()), Array.from(w[k]), k);
  // a frame with its image → a finite chunk in the env's units; the same again after a reset
  const env = await makeEnv("pusht-image-v1"), { obs } = env.reset({ seed: 3 });
  const chunk = () => (p.reset(1), p.observe({ obs, prevAction: null }), p.sampleChunk({ seed: 2 }));
  const a = chunk();
  assert.is(a.length, 8 * 2);
  assert.ok(a.every(Number.isFinite));
  assert.equal(Array.from(chunk()), Array.from(a));
  // an observation whose image has the wrong size is refused by name
  assert.throws(() => p.observe({ obs: { ...obs, [IMG]: new Float32Array(84 * 84 * 3) }, prevAction: null }), /image "observation\.image" has 21168 values, the policy was trained on \[96,96,3\]/);
  p.dispose();
});

test("a live episode on pusht-image-v1 (tfjs): the frame's image encoded at each step, no errors, no leaked tensors", async () => {
  const base = tf.memory().numTensors;
  const r = await evaluate({ makeEnv: () => makeEnv("pusht-image-v1"), makePolicy: async () => loadPolicy(ckpt), episodes: 1, seedStart: 100000, loop: { strategy: { kind: "receding", execute: 8 }, latencyMs: 0 } });
  assert.is(r.aggregated.n_episodes, 1);
  assert.ok(r.aggregated.avg_max_reward >= 0);
  assert.is(tf.memory().numTensors, base);
});

test("ONNX export: encoder_step takes the image (image_0 [batch, 96, 96, 3]); ONNX Runtime = tfjs within 1e-4 on env frames", async () => {
  const ex = path.join(dir, "export");
  const m = exportCheckpoint(ckpt, ex);
  const img = m.graphs.encoder_step.inputs.find((i) => i.name === "image_0");
  assert.equal(img?.shape, ["batch", 96, 96, 3]);
  assert.equal(m.layout.images, [{ name: IMG, shape: [96, 96, 3] }]);
  const loaded = loadExport(ex, (b) => nodeRunner(b));
  const tfp = loadPolicy(ckpt), ox = loaded.policy();
  const env = await makeEnv("pusht-image-v1");
  const worst = chunkParity(tfp, ox, 12, 10, (t, executed) => (t === 0 || !executed ? env.reset({ seed: 100001 }).obs : env.step(executed).obs));
  console.log(`  image SCD export: max |Δ| ${worst.toExponential(2)} over 12 frames`);
  assert.ok(worst <= 1e-4, `max |Δ| ${worst}`);
  tfp.dispose();
  loaded.dispose();
});

test("CLI: scd train --obs-features observation.image,observation.agent_pos, scd export, scd eval --policy <export> --env pusht-image-v1", () => {
  const out = path.join(dir, "cli-run"), ex = path.join(dir, "cli-export");
  const t = scd(["train", "--policy", "scd", "--dataset", data, "--obs-features", OBS.join(","), "--steps", "2", "--batch", "4", "--out", out, "--policy-config", JSON.stringify(SMALL)]);
  assert.is(t.code, 0, t.stderr);
  const e = scd(["export", path.join(out, "checkpoint"), "--out", ex]);
  assert.is(e.code, 0, e.stderr);
  const v = scd(["eval", "--policy", ex, "--env", "pusht-image-v1", "--episodes", "1", "--latency", "0"]);
  assert.is(v.code, 0, v.stderr);
  assert.match(v.stdout + v.stderr, /errors 0/);
  const bad = scd(["train", "--policy", "mlp-bc", "--dataset", data, "--obs-features", OBS.join(","), "--steps", "1", "--out", path.join(dir, "cli-bad")]);
  assert.is(bad.code, 2, bad.stderr);
  assert.match(bad.stderr.trim().split("\n").at(-1)!, /^scd: error: observation feature "observation\.image" is an image \[96,96,3\]: this policy has no image encoder/);
});

// the shipped checkpoint's normalized chunk for a fixed history and noise, computed before the image path existed
const SHIPPED_CHUNK = [0.122905307, 0.0450663194, 0.159685433, -0.0197766647, 0.195334822, -0.0834005997, 0.24814795, -0.176383749, 0.247044712, -0.277291447, 0.249632329, -0.383369654, 0.206508443, -0.468368083, 0.167756915, -0.524015725, 0.146689013, -0.548898518, 0.0871099383, -0.565924883, 0.0630026162, -0.577797413, 0.0407554358, -0.563150525, 0.0333164185, -0.547515929, -0.0280782543, -0.552351415, -0.0731106624, -0.552072287, -0.139229029, -0.528434932];

test("a low-dimensional checkpoint is unchanged: the shipped scd-pusht gives the chunk it gave before (float32-exact)", () => {
  const p = loadPolicy(path.join(ROOT, "assets/checkpoints/scd-pusht"));
  assert.is(p.layout.images, undefined);
  p.reset(0);
  const obs = (t: number) => ({ "observation.keypoints": Float32Array.from({ length: 18 }, (_, i) => 200 + 10 * Math.sin(i + t)), "observation.agent_pos": Float32Array.of(250 + t, 300 - t) });
  let prev: Float32Array | null = null;
  for (let t = 0; t < 3; t++) {
    p.observe({ obs: obs(t), prevAction: prev });
    prev = Float32Array.of(251 + t, 299 - t);
  }
  const got = Array.from(p.sampleNormalized(10, new Rng(7)), (v) => Number(v.toPrecision(9)));
  assert.equal(got, SHIPPED_CHUNK);
  p.dispose();
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
