/**
 * The image encoder's pieces (src/nn/conv.ts, image-encoder.ts; conv2d, groupNorm2d and spatialSoftmax in tf-ops.ts
 * and onnx-ops.ts): conv2d gradients on wasm (im2col kernels) against the cpu backend's native conv2d gradients,
 * the whole encoder's parameter gradients on wasm against cpu, ONNX Runtime on the traced encoder against tfjs
 * (max |Δ| ≤ 1e-4), shapes, config and crop errors, and a tiny fit on rendered Push-T frames. Every test checks that
 * tf.memory().numTensors returns to where it started.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend/index.ts";
import { conv2d, convGradChunk, registerConvGradients, unregisterConvGradients } from "../src/nn/conv.ts";
import { tfOps } from "../src/nn/tf-ops.ts";
import { Linear } from "../src/nn/module.ts";
import { ImageEncoder, DEFAULT_IMAGE_ENCODER, randomCrop, centerCrop, type ImageEncoderConfig } from "../src/nn/image-encoder.ts";
import { OnnxOps } from "../src/deploy/onnx-ops.ts";
import { GraphBuilder } from "../src/deploy/onnx-graph.ts";
import { nodeRunner } from "../src/deploy/ort-node.ts";
import { renderPushTObservation } from "../src/envs/pusht/pixels.ts";
import { Rng } from "../src/util/rng.ts";

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.is(a.length, b.length, "lengths");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const scale = (a: ArrayLike<number>) => Math.max(1, ...Array.from(a, Math.abs));
const SMALL: ImageEncoderConfig = { channels: [4, 8], blocks: 1, groups: 2, keypoints: 4, dOut: 6 };

/** Run `f` on `backend`, then come back to wasm. */
async function on<R>(backend: string, f: () => R): Promise<R> {
  await tf.setBackend(backend);
  try {
    return f();
  } finally {
    await tf.setBackend("wasm");
  }
}

/** Every parameter moved by noise of about its own scale (GroupNorm gains and biases included), in place. */
function perturb(m: { parameters(): Map<string, tf.Variable> }, seed: number): void {
  const rng = new Rng(seed);
  for (const v of m.parameters().values()) {
    const a = Float32Array.from(v.dataSync());
    const s = 0.5 * Math.max(Math.sqrt(a.reduce((p, x) => p + x * x, 0) / a.length), 0.1);
    tf.tidy(() => v.assign(tf.tensor(a.map((x) => x + s * rng.normal()), v.shape)));
  }
}

test("setup: wasm backend; stock wasm has no Conv2DBackpropFilter, the registered kernels provide it", async () => {
  await initBackend("wasm");
  const base = tf.memory().numTensors;
  const x = tf.ones([1, 5, 5, 2]), w = tf.ones([3, 3, 2, 3]);
  unregisterConvGradients();
  assert.throws(() => tf.tidy(() => tf.grad((ww: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, ww as tf.Tensor4D, 1, 1).sum())(w)), /Conv2DBackpropFilter/);
  registerConvGradients();
  const g = tf.tidy(() => tf.grad((ww: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, ww as tf.Tensor4D, 1, 1).sum())(w).dataSync());
  assert.is(g[0], 16); // corner tap (0, 0): the 4 × 4 outputs whose window covers an input pixel there
  tf.dispose([x, w]);
  assert.is(tf.memory().numTensors, base);
});

const CASES: { name: string; N: number; H: number; W: number; cIn: number; cOut: number; k: number; stride: number; padding: "same" | "valid"; chunk?: number }[] = [
  { name: "3×3 stride 1 same", N: 3, H: 11, W: 9, cIn: 5, cOut: 6, k: 3, stride: 1, padding: "same" },
  { name: "3×3 stride 2 same, even size", N: 2, H: 12, W: 12, cIn: 4, cOut: 7, k: 3, stride: 2, padding: "same" },
  { name: "3×3 stride 2 same, odd size", N: 2, H: 13, W: 11, cIn: 3, cOut: 4, k: 3, stride: 2, padding: "same" },
  { name: "1×1 stride 2", N: 2, H: 10, W: 9, cIn: 6, cOut: 5, k: 1, stride: 2, padding: "same" },
  { name: "5×5 stride 1 valid", N: 2, H: 9, W: 10, cIn: 3, cOut: 4, k: 5, stride: 1, padding: "valid" },
  { name: "3×3 stride 2 same, chunked by one image", N: 4, H: 12, W: 10, cIn: 4, cOut: 5, k: 3, stride: 2, padding: "same", chunk: 1 },
  { name: "3×3 stride 1 same, chunked by two images", N: 5, H: 9, W: 8, cIn: 3, cOut: 4, k: 3, stride: 1, padding: "same", chunk: 2 },
];

for (const c of CASES) {
  test(`conv2d ${c.name}: value and gradients (x, w, b) on wasm = cpu's native conv2d`, async () => {
    const base = tf.memory().numTensors, rng = new Rng(5);
    const x = tf.tensor(rng.normals(c.N * c.H * c.W * c.cIn), [c.N, c.H, c.W, c.cIn]);
    const w = tf.tensor(rng.normals(c.k * c.k * c.cIn * c.cOut, 0.3), [c.k, c.k, c.cIn, c.cOut]), b = tf.tensor(rng.normals(c.cOut));
    const pad = c.padding === "same" ? (c.k - 1) / 2 : 0, out = (n: number) => Math.floor((n + 2 * pad - c.k) / c.stride) + 1;
    const r = tf.tensor(rng.normals(c.N * out(c.H) * out(c.W) * c.cOut)); // the output's gradient, flattened
    const run = () => tf.tidy(() => {
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => conv2d(xx, ww, bb, c.stride, c.padding);
      const y = f(x, w, b);
      const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => f(xx, ww, bb).reshape([-1]).mul(r).sum())([x, w, b]);
      return [y, ...grads].map((t) => t.dataSync().slice());
    });
    const before = convGradChunk.floats;
    if (c.chunk) convGradChunk.floats = c.chunk * out(c.H) * out(c.W) * c.k * c.k * c.cIn; // `chunk` images per block
    let wasm: Float32Array[];
    const ids = tf.engine().backend.numDataIds();
    try {
      wasm = run() as Float32Array[];
    } finally {
      convGradChunk.floats = before;
    }
    assert.is(tf.engine().backend.numDataIds(), ids, "the gradient kernels free their temporaries on the wasm heap");
    const cpu = (await on("cpu", run)) as Float32Array[];
    const diffs = ["y", "dx", "dw", "db"].map((k, i) => [k, maxAbs(wasm[i], cpu[i]) / scale(cpu[i])] as const);
    console.log(`  conv2d ${c.name}: max |Δ| / max(1, |ref|) ${diffs.map(([k, d]) => `${k} ${d.toExponential(1)}`).join(", ")}`);
    for (const [k, d] of diffs) assert.ok(d <= 1e-5, `${k}: ${d}`);
    tf.dispose([x, w, b, r]);
    assert.is(tf.memory().numTensors, base);
  });
}

test("groupNorm2d normalizes each group of each image, its gradient = autodiff's; spatialSoftmax finds a peak", () => {
  const base = tf.memory().numTensors;
  tf.tidy(() => {
    const x = tf.randomNormal([2, 5, 6, 8], 3, 2, "float32", 1);
    const y = tfOps.groupNorm2d(x, tf.ones([8]), tf.zeros([8]), 4, 1e-5).reshape([2, 30, 4, 2]);
    assert.equal(y.shape, [2, 30, 4, 2]);
    const { mean, variance } = tf.moments(y, [1, 3]);
    assert.ok(mean.abs().max().dataSync()[0] < 1e-5 && variance.sub(1).abs().max().dataSync()[0] < 1e-3);
    // one hot spot per channel: channel 0 at row 1, column 4 of a 5 × 6 map; channel 1 at the corner (4, 0)
    const m = new Float32Array(2 * 5 * 6 * 2);
    m[(1 * 6 + 4) * 2 + 0] = 50;
    m[(4 * 6 + 0) * 2 + 1] = 50;
    m.copyWithin(60, 0, 60);
    const kp = tfOps.spatialSoftmax(tf.tensor(m, [2, 5, 6, 2])).dataSync();
    assert.is(kp.length, 2 * 4);
    const want = [-1 + (2 * 4) / 5, -1 + (2 * 1) / 4, -1, 1]; // (x0, y0, x1, y1)
    for (let i = 0; i < 8; i++) assert.ok(Math.abs(kp[i] - want[i % 4]) < 1e-5, `keypoint ${i}: ${kp[i]} vs ${want[i % 4]}`);
    assert.throws(() => tfOps.spatialSoftmax(tf.zeros([1, 1, 4, 2])), /H, W >= 2/);
    // the written-out gradient = autodiff through tf.moments (the [N, T, C] groupNorm on the flattened map)
    const [g, b, r] = [tf.randomNormal([8], 1, 0.5, "float32", 2), tf.randomNormal([8], 0, 1, "float32", 3), tf.randomNormal([2, 5, 6, 8], 0, 1, "float32", 4)];
    const mine = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tfOps.groupNorm2d(xx, gg, bb, 4, 1e-5).mul(r).sum())([x, g, b]);
    const ref = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tfOps.groupNorm(xx.reshape([2, 30, 8]), gg, bb, 4, 1e-5).reshape([2, 5, 6, 8]).mul(r).sum())([x, g, b]);
    const d = mine.map((t, i) => maxAbs(t.dataSync(), ref[i].dataSync()) / scale(ref[i].dataSync()));
    console.log(`  groupNorm2d gradient vs autodiff: max |Δ| / max(1, |ref|) dx ${d[0].toExponential(1)}, dg ${d[1].toExponential(1)}, db ${d[2].toExponential(1)}`);
    assert.ok(d.every((v) => v <= 1e-5), `${d}`);
    const v2 = tfOps.groupNorm2d(x, g, b, 4, 1e-5).dataSync(), v1 = tfOps.groupNorm(x.reshape([2, 30, 8]), g, b, 4, 1e-5).dataSync();
    assert.ok(maxAbs(v2, v1) < 1e-5);
  });
  assert.is(tf.memory().numTensors, base);
});

test("ImageEncoder parameter gradients on wasm = cpu (conv, GroupNorm, spatial softmax, linear)", async () => {
  const base = tf.memory().numTensors;
  const enc = new ImageEncoder(SMALL, 2);
  perturb(enc, 3);
  const x = tf.randomUniform([2, 20, 18, 3], 0, 1, "float32", 4), r = tf.randomNormal([2, SMALL.dOut], 0, 1, "float32", 5);
  const names = [...enc.parameters().keys()], vars = [...enc.parameters().values()];
  const run = () => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => enc.forward(x).mul(r).sum() as tf.Scalar, vars);
    return [value.dataSync().slice(), ...vars.map((v) => grads[v.name].dataSync().slice())];
  });
  const ids = tf.engine().backend.numDataIds();
  const wasm = run();
  assert.is(tf.engine().backend.numDataIds(), ids, "no tensor data left on the wasm backend");
  const cpu = await on("cpu", run);
  let worst = 0, at = "";
  wasm.forEach((g, i) => {
    const d = maxAbs(g, cpu[i]) / scale(cpu[i]);
    if (d > worst) [worst, at] = [d, i === 0 ? "loss" : names[i - 1]];
  });
  console.log(`  encoder gradients: max |Δ| / max(1, |ref|) ${worst.toExponential(2)} (at ${at}) over ${names.length} parameters`);
  assert.ok(worst <= 1e-4, `${at}: ${worst}`);
  assert.ok(cpu.slice(1).every((g) => g.some((v) => v !== 0)), "every parameter gets a gradient");
  tf.dispose([x, r]);
  enc.dispose();
  assert.is(tf.memory().numTensors, base);
});

test("shapes, parameter count, config and crop errors", () => {
  const base = tf.memory().numTensors;
  const enc = new ImageEncoder();
  console.log(`  default encoder ${JSON.stringify(DEFAULT_IMAGE_ENCODER)}: ${enc.numParams()} parameters`);
  assert.ok(enc.numParams() > 200_000 && enc.numParams() < 500_000, `${enc.numParams()}`);
  tf.tidy(() => {
    for (const s of [84, 96, 37]) assert.equal(enc.forward(tf.zeros([2, s, s, 3])).shape, [2, 64]);
    const imgs = tf.tensor(Int32Array.from({ length: 3 * 96 * 96 * 3 }, (_, i) => i % 251), [3, 96, 96, 3], "int32");
    const c = centerCrop(imgs, 84);
    assert.equal(c.shape, [3, 84, 84, 3]);
    assert.is(c.dtype, "int32");
    assert.equal(c.slice([1, 0, 0, 0], [1, 1, 1, 3]).dataSync(), imgs.slice([1, 6, 6, 0], [1, 1, 1, 3]).dataSync());
    const rc = randomCrop(imgs, 84, new Rng(9)), at = new Rng(9);
    assert.equal(rc.shape, [3, 84, 84, 3]);
    for (let n = 0; n < 3; n++) {
      const [y, x] = [at.int(13), at.int(13)];
      assert.equal(rc.slice([n, 0, 0, 0], [1, -1, -1, -1]).dataSync(), imgs.slice([n, y, x, 0], [1, 84, 84, -1]).dataSync(), `image ${n} at (${y}, ${x})`);
    }
    assert.throws(() => randomCrop(imgs, 97, new Rng(1)), /randomCrop: crop size 97 must be an integer from 1 to 96/);
    assert.throws(() => centerCrop(imgs.reshape([3, 96, 288]), 8), /centerCrop: images must be \[N, H, W, C\]/);
    assert.throws(() => tfOps.conv2d(tf.zeros([1, 6, 6, 2]), tf.zeros([2, 2, 2, 3]), null, 1, "same"), /padding "same" needs an odd kernel size \(got 2\)/);
    assert.throws(() => tfOps.conv2d(tf.zeros([1, 6, 6, 4]), tf.zeros([3, 3, 2, 3]), null, 1, "same"), /conv2d: input shape \[1,6,6,4\] is not \[N, H, W, 2\]/);
  });
  assert.throws(() => new ImageEncoder({ ...DEFAULT_IMAGE_ENCODER, groups: 3 }), /ImageEncoderConfig\.groups = 3 does not divide channels 16, 32, 64, 64/);
  assert.throws(() => new ImageEncoder({ ...DEFAULT_IMAGE_ENCODER, blocks: 0 }), /ImageEncoderConfig\.blocks = 0: must be a positive integer/);
  assert.throws(() => new ImageEncoder({ ...DEFAULT_IMAGE_ENCODER, channels: [] }), /ImageEncoderConfig\.channels = \[\]/);
  enc.dispose();
  assert.is(tf.memory().numTensors, base);
});

test("ONNX parity: the traced encoder on ONNX Runtime = tfjs (wasm) within 1e-4, batch dynamic", () => {
  const base = tf.memory().numTensors;
  const enc = new ImageEncoder(DEFAULT_IMAGE_ENCODER, 7);
  perturb(enc, 8);
  const weights = Object.fromEntries([...enc.parameters()].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
  const g = new GraphBuilder("image_encoder");
  const o = new OnnxOps(g, new Map([...enc.parameters()].map(([k, v]) => [v, k])), weights);
  const out = enc.apply(o, o.input({ name: "images", dtype: "float32", shape: ["batch", 84, 84, 3] }));
  g.output(o.ref(out), { name: "features", dtype: "float32", shape: ["batch", DEFAULT_IMAGE_ENCODER.dOut] });
  const bytes = g.toBytes("image encoder parity test");
  const runner = nodeRunner(bytes);
  const rng = new Rng(10);
  let worst = 0, biggest = 0;
  for (const n of [3, 1]) {
    const frames = Array.from({ length: n }, () => renderPushTObservation([100 + 300 * rng.next(), 100 + 300 * rng.next(), 150 + 200 * rng.next(), 150 + 200 * rng.next(), 6 * rng.next()], 96));
    const imgs = tf.tidy(() => centerCrop(tf.tensor(Float32Array.from(frames.flatMap((f) => Array.from(f))), [n, 96, 96, 3]).div(255), 84));
    const want = tf.tidy(() => enc.forward(imgs).dataSync());
    const got = runner.run({ images: { data: imgs.dataSync() as Float32Array, dims: [n, 84, 84, 3] } }).features;
    assert.equal(got.dims, [n, DEFAULT_IMAGE_ENCODER.dOut]);
    worst = Math.max(worst, maxAbs(got.data, want));
    biggest = Math.max(biggest, ...Array.from(want, Math.abs));
    imgs.dispose();
  }
  console.log(`  ONNX vs tfjs: max |Δ| ${worst.toExponential(2)} (features up to ${biggest.toFixed(2)}; ${(bytes.length / 1024).toFixed(0)} KB graph)`);
  assert.ok(worst <= 1e-4, `max |Δ| ${worst}`);
  runner.dispose();
  enc.dispose();
  assert.is(tf.memory().numTensors, base);
});

test("tiny fit: encoder + linear head learn the agent's position from rendered Push-T frames (loss falls)", () => {
  const base = tf.memory().numTensors, rng = new Rng(11), n = 8, S = 48;
  const states = Array.from({ length: n }, () => [80 + 350 * rng.next(), 80 + 350 * rng.next(), 200 + 100 * rng.next(), 200 + 100 * rng.next(), 6 * rng.next()]);
  const imgs = tf.tensor(Float32Array.from(states.flatMap((s) => Array.from(renderPushTObservation(s, S), (v) => v / 255))), [n, S, S, 3]);
  const target = tf.tensor(states.flatMap((s) => [s[0] / 256 - 1, s[1] / 256 - 1]), [n, 2]); // agent (x, y) in [−1, 1]
  const enc = new ImageEncoder({ channels: [8, 16, 16], blocks: 1, groups: 4, keypoints: 8, dOut: 16 }, 12);
  const head = new Linear(new Rng(13), 16, 2);
  const vars = [...enc.parameters().values(), ...head.parameters().values()];
  const opt = tf.train.adam(3e-3);
  const losses: number[] = [];
  for (let s = 0; s < 25; s++) {
    const l = opt.minimize(() => head.forward(tf.relu(enc.forward(imgs))).sub(target).square().mean() as tf.Scalar, true, vars)!;
    losses.push(l.dataSync()[0]);
    l.dispose();
  }
  console.log(`  tiny fit: loss ${losses[0].toFixed(3)} → ${losses.at(-1)!.toFixed(3)} in ${losses.length} Adam steps`);
  assert.ok(losses.every(Number.isFinite));
  assert.ok(losses.at(-1)! < 0.5 * losses[0], `loss ${losses[0]} → ${losses.at(-1)}`);
  opt.dispose();
  tf.dispose([imgs, target]);
  enc.dispose();
  head.dispose();
  assert.is(tf.memory().numTensors, base);
});

test.run();
