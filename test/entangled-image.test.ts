/**
 * The entangled baseline on camera frames (src/policies/entangled-diffusion with config `image`: SCD's image path,
 * src/nn/image-encoder.ts FrameImages): a tiny image dataset built as test/scd-image.test.ts builds it (three shipped
 * Push-T demonstrations with their 96 × 96 frames rendered from the recorded state), then training steps where the
 * loss falls and the image encoder learns, `train()`'s checkpoint observed and sampled on tfjs, ONNX export parity
 * (trunk_step takes image_0; ONNX Runtime vs tfjs ≤ 1e-4), bad images refused by name, and a model without images
 * giving what it gave before the image path existed (parameter names, shapes, values and chunk).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as tf from "@tensorflow/tfjs";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { initBackend } from "../src/backend/index.ts";
import "../src/policies/index.ts";
import "../src/envs/index.ts";
import { ScdError } from "../src/errors.ts";
import { loadDataset } from "../src/datasets/load.ts";
import { writePushTImageDemos, assertLossFalls } from "./image-demos.ts";
import { policyDef, parsePolicyConfig, type PolicyModel } from "../src/policies/registry.ts";
import { frameLayout, type WindowTensors } from "../src/policies/frames.ts";
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
import { Rng } from "../src/util/rng.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "entangled-image-"));
const IMG = "observation.image", OBS = [IMG, "observation.agent_pos"];
const data = path.join(dir, "pusht3-images.scdd");
const IMAGE = { channels: [8, 16], blocks: 1, groups: 4, keypoints: 8, dOut: 16 };
/** A tiny entangled model with SCD's small image encoder (crop 84 of 96). */
const SMALL = { dModel: 32, layers: 2, heads: 2, horizon: 8, history: 2, positionsPerWindow: 2, draws: 1, prevAction: false, image: IMAGE };
const trainCfg = (extra: Record<string, unknown> = {}) => TrainConfig.parse({ policy: "entangled-diffusion", dataset: data, out: path.join(dir, "unused"), obsFeatures: OBS, batch: 8, lr: 3e-3, warmup: 1, steps: 40, emaPower: 0.5, ...extra });

test("setup: a .scdd of 3 demonstrations with rendered 96 × 96 frames; the entangled policy takes them, its config completed", async () => {
  await initBackend("wasm");
  writePushTImageDemos(data, 3);
  const def = policyDef("entangled-diffusion"), buf = (await loadDataset(data)).buffer;
  const cfg = parsePolicyConfig(def, { history: 2 }, "t"), d = prepareTrainData(buf, trainCfg(), def, cfg, data);
  assert.equal(d.layout.images, [{ name: IMG, shape: [96, 96, 3] }]);
  const s = new TrainSession(def, cfg, d, trainCfg());
  assert.equal((s.policyConfig.image as { channels: number[]; crop: number }).channels, [16, 32, 64, 64], "the image encoder's defaults are recorded");
  const names = [...s.model.parameters().keys()];
  assert.ok(names.includes("image0.stem.conv.w") && names.includes("image0.out.w"), "SCD's image encoder parameter names");
  // the trunk's input projection takes the frame (agent_pos 2 + previous action 2 + flag 1) and 64 image features
  assert.equal(s.model.parameters().get("trunk.in.w")!.shape, [5 + 64, 120]);
  s.dispose();
});

let lossFell = false;
test("training on frames: loss falls over 40 steps, the image encoder learns, no tensor leaks per step", async () => {
  const def = policyDef("entangled-diffusion"), cfg = parsePolicyConfig(def, SMALL, "t");
  const d = prepareTrainData((await loadDataset(data)).buffer, trainCfg(), def, cfg, data);
  const s = new TrainSession(def, cfg, d, trainCfg());
  const w0 = s.model.parameters().get("image0.stem.conv.w")!.dataSync().slice();
  await assertLossFalls(s, 40);
  const w1 = s.model.parameters().get("image0.stem.conv.w")!.dataSync();
  assert.ok(w1.some((v, i) => Math.abs(v - w0[i]) > 1e-4), "the CNN's first layer is trained (the loss reaches it)");
  lossFell = true;
  s.dispose();
});

const run = path.join(dir, "run"), ckpt = path.join(run, "checkpoint");
test("train() → checkpoint; observe/act on tfjs: the image changes the chunk, repeatable, no leaks; bad images refused by name", async () => {
  assert.ok(lossFell);
  await train(trainCfg({ out: run, steps: 6, valEvery: 3, ckptEvery: 0, policyConfig: SMALL }), { quiet: true });
  const meta = readCheckpointMeta(ckpt);
  assert.is(meta.policy, "entangled-diffusion");
  assert.equal(meta.layout.images, [{ name: IMG, shape: [96, 96, 3] }]);
  assert.equal((meta.config.image as { crop: number }).crop, 84);
  const p = loadPolicy(ckpt), w = readWeights(ckpt);
  for (const [k, v] of p.model.parameters()) assert.equal(Array.from(v.dataSync()), Array.from(w[k]), k);
  const env = await makeEnv("pusht-image-v1"), { obs } = env.reset({ seed: 3 });
  const chunk = (o = obs) => (p.reset(1), p.observe({ obs: o, prevAction: null }), p.sampleChunk({ seed: 2 }));
  const a = chunk();
  const base = tf.memory().numTensors; // the KV cache of one frame held
  assert.is(a.length, 8 * 2);
  assert.ok(a.every(Number.isFinite));
  assert.equal(Array.from(chunk()), Array.from(a));
  const dark = { ...obs, [IMG]: new Float32Array(96 * 96 * 3) };
  assert.not.equal(Array.from(chunk(dark)), Array.from(a), "the chunk depends on the image");
  assert.is(tf.memory().numTensors, base, "tensors after observe/act");
  // the policy: a wrong-size image, a missing one
  assert.throws(() => p.observe({ obs: { ...obs, [IMG]: new Float32Array(84 * 84 * 3) }, prevAction: null }), (e: Error) => e instanceof ScdError && /image "observation\.image" has 21168 values, the policy was trained on \[96,96,3\]/.test(e.message));
  const { [IMG]: _, ...noImage } = obs;
  assert.throws(() => p.observe({ obs: noImage, prevAction: null }), (e: Error) => e instanceof ScdError && /no image "observation\.image"/.test(e.message));
  // the model: image count and shape
  const m = p.model, x = tf.zeros([1, 2]), small = tf.zeros([1, 84, 84, 3]), ok = tf.zeros([1, 96, 96, 3]);
  assert.throws(() => m.observe(x), (e: Error) => e instanceof ScdError && /EntangledDiffusionModel\.observe: the model takes 1 image feature\(s\) \(observation\.image\), got 0/.test(e.message));
  assert.throws(() => m.observe(x, [ok, ok]), (e: Error) => e instanceof ScdError && /takes 1 image feature\(s\) \(observation\.image\), got 2/.test(e.message));
  assert.throws(() => m.observe(x, [small]), (e: Error) => e instanceof ScdError && /image "observation\.image" is \[1,84,84,3\], the model takes \[1, 96,96,3\]/.test(e.message));
  tf.dispose([x, small, ok]);
  assert.is(tf.memory().numTensors, base, "tensors after the refusals");
  p.dispose();
});

test("ONNX export: trunk_step takes image_0 [batch, 96, 96, 3]; ONNX Runtime = tfjs within 1e-4 on env frames; a wrong-size image refused", async () => {
  const ex = path.join(dir, "export");
  const m = exportCheckpoint(ckpt, ex);
  assert.equal(m.graphs.trunk_step.inputs.find((i) => i.name === "image_0")?.shape, ["batch", 96, 96, 3]);
  assert.is(m.graphs.denoise.inputs.some((i) => i.name.startsWith("image")), false, "the denoising steps never see the image");
  const loaded = loadExport(ex, (b) => nodeRunner(b));
  const tfp = loadPolicy(ckpt), ox = loaded.policy();
  const env = await makeEnv("pusht-image-v1");
  const worst = chunkParity(tfp, ox, 12, 10, (t, executed) => (t === 0 || !executed ? env.reset({ seed: 100001 }).obs : env.step(executed).obs));
  console.log(`  image entangled export: max |Δ| ${worst.toExponential(2)} over 12 frames`);
  assert.ok(worst <= 1e-4, `max |Δ| ${worst}`);
  const { obs } = env.reset({ seed: 1 });
  assert.throws(() => ox.observe({ obs: { ...obs, [IMG]: new Float32Array(10) }, prevAction: null }), (e: Error) => e instanceof ScdError && /image "observation\.image" has 10 values/.test(e.message));
  tfp.dispose();
  loaded.dispose();
});

// computed before the image path existed: a 1-layer model's parameter digest (names, shapes, values), loss and chunk
const LOWDIM = { params: 16290, digest: "923519b3b28c4410", loss: 3.0380375385284424, chunk: "0.124448724,-1.00000000,-0.0655323565,0.438687295,-0.974327207,0.886659980,0.663664639,0.480967760" };

/** A fixed batch, loss and 3 observed frames (images drawn but not given without an image layout) → parameter digest, loss, chunk. */
function fingerprint(m: PolicyModel, images: boolean): { params: number; digest: string; loss: number; chunk: string } {
  const h = createHash("sha256");
  for (const [k, v] of m.parameters()) (h.update(k + v.shape.join(",")), h.update(Buffer.from(v.dataSync().buffer)));
  const rng = new Rng(1), B = 2, L = 2;
  const b: WindowTensors = { B, L, frames: Float32Array.from(rng.normals(B * L * 2)), keyPad: new Float32Array(B * L), posIdx: Int32Array.of(1, 3), targets: Float32Array.from(rng.normals(B * 4 * 2)) };
  const ims = [Float32Array.from(rng.normals(B * L * 24 * 24 * 3))];
  const l = m.loss(images ? { ...b, images: ims } : b, new Rng(5)), loss = l.dataSync()[0];
  l.dispose();
  m.reset(1);
  for (let t = 0; t < 3; t++) {
    const x = tf.tensor(rng.normals(2), [1, 2]), im = tf.tensor(rng.normals(24 * 24 * 3), [1, 24, 24, 3]);
    if (images) m.observe(x, [im]);
    else m.observe(x);
    tf.dispose([x, im]);
  }
  const y = m.sample(3, new Rng(9)), chunk = Array.from(y.dataSync(), (v) => v.toPrecision(9)).join(",");
  y.dispose();
  return { params: m.numParams(), digest: h.digest("hex").slice(0, 16), loss, chunk };
}

test("without images the model is unchanged (float32-exact); with them only image0.* is added and trunk.in widens", () => {
  const def = policyDef("entangled-diffusion"), base = tf.memory().numTensors;
  const cfg = parsePolicyConfig(def, { dModel: 32, layers: 1, heads: 2, horizon: 4, history: 2, prevAction: false, image: { ...IMAGE, crop: 20 } }, "t");
  const plain = def.create(cfg, frameLayout([{ name: "observation.agent_pos", dim: 2 }], 2, { prevAction: false }), 3);
  assert.equal(fingerprint(plain, false), LOWDIM);
  const layout = frameLayout([{ name: "observation.agent_pos", dim: 2 }], 2, { prevAction: false, imageFeatures: [{ name: IMG, shape: [24, 24, 3] }] });
  const withImg = def.create(cfg, layout, 3);
  const p0 = plain.parameters(), p1 = withImg.parameters();
  for (const [k, v] of p0) if (k !== "trunk.in.w") assert.equal(p1.get(k)!.shape, v.shape, k);
  assert.equal(p1.get("trunk.in.w")!.shape, [2 + 16, 32]);
  assert.ok([...p1.keys()].filter((k) => !p0.has(k)).every((k) => k.startsWith("image0.")));
  const f = fingerprint(withImg, true);
  assert.ok(Number.isFinite(f.loss) && f.chunk !== LOWDIM.chunk);
  // an image smaller than the crop is refused by name
  assert.throws(() => def.create({ ...cfg, image: { ...IMAGE, crop: 30 } }, layout, 3), (e: Error) => e instanceof ScdError && /image feature "observation\.image" \[24,24,3\] is smaller than the crop 30/.test(e.message));
  plain.dispose();
  withImg.dispose();
  assert.is(tf.memory().numTensors, base);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
