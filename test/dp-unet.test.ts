/**
 * dp-unet beyond the contract tests (test/policies.test.ts runs those on it): the im2col convolutions (src/nn/tf-ops.ts) equal
 * PyTorch's definitions (Conv1d "same", Downsample1d = stride-2 conv, Upsample1d = ConvTranspose1d(4, 2, 1)),
 * GroupNorm equals the textbook formula, wasm gradients equal cpu's, the DDIM sampler returns [B, H, A] in
 * [−1, 1], the first frame after reset fills the observation history (training windows at an episode start
 * repeat their first frame the same way), a rollout on cpu equals wasm, and the loss falls on a fixed batch at a three-level config.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as tf from "@tensorflow/tfjs";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { policyDef } from "../src/policies/registry.ts";
import { frameLayout, buildWindows } from "../src/policies/frames.ts";
import { LearnedPolicy } from "../src/policies/learned.ts";
import { concatEpisodes } from "../src/datasets/episodes.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { AdamW } from "../src/train/adamw.ts";
import { Rng } from "../src/util/rng.ts";
import { Conv1d, Downsample, Upsample, obsHistory, type DpUnetModel } from "../src/policies/dp-unet/model.ts";
import { GroupNorm } from "../src/nn/module.ts";
import { tfOps } from "../src/nn/tf-ops.ts";

const layout = frameLayout([{ name: "observation.state", dim: 3 }], 2, { prevAction: false });
const norms = { "observation.state": fitNormalizer(Float32Array.of(-1, -1, -1, 1, 1, 1), 3, "minmax"), action: fitNormalizer(Float32Array.of(0, 0, 10, 10), 2, "minmax") };
const ep = (n: number, s: number) => ({ "observation.state": Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(s + i)), action: Float32Array.from({ length: 2 * n }, (_, i) => 5 + 4 * Math.cos(s + i / 3)) });
const buf = concatEpisodes({ "observation.state": { shape: [3] }, action: { shape: [2] } }, [ep(30, 0), ep(25, 1)]);
const SMALL = { horizon: 8, downDims: [8, 16, 16], nGroups: 4, stepEmbedDim: 8 };

function make(cfg: Record<string, unknown>, seed = 1): DpUnetModel {
  const def = policyDef("dp-unet");
  return def.create(def.configSchema.parse(cfg), layout, seed) as DpUnetModel;
}

/** PyTorch's Conv1d on plain arrays: x [T][cIn] (flat), w [k][cIn][cOut] (flat), zero padding `pad` each side. */
function refConv(x: Float32Array, T: number, cIn: number, w: Float32Array, b: Float32Array, k: number, cOut: number, stride: number, pad: number): Float32Array {
  const To = Math.floor((T + 2 * pad - k) / stride) + 1, y = new Float32Array(To * cOut);
  for (let t = 0; t < To; t++)
    for (let o = 0; o < cOut; o++) {
      let s = b[o];
      for (let i = 0; i < k; i++) {
        const u = t * stride - pad + i;
        if (u >= 0 && u < T) for (let c = 0; c < cIn; c++) s += x[u * cIn + c] * w[(i * cIn + c) * cOut + o];
      }
      y[t * cOut + o] = s;
    }
  return y;
}

/** PyTorch's ConvTranspose1d(k = 4, stride 2, padding 1): y[2i − 1 + j] += x[i] · W[j]. */
function refConvTranspose(x: Float32Array, T: number, C: number, w: Float32Array, b: Float32Array): Float32Array {
  const y = new Float32Array(2 * T * C);
  for (let o = 0; o < 2 * T; o++) for (let c = 0; c < C; c++) y[o * C + c] = b[c];
  for (let i = 0; i < T; i++)
    for (let j = 0; j < 4; j++) {
      const o = 2 * i - 1 + j;
      if (o < 0 || o >= 2 * T) continue;
      for (let ci = 0; ci < C; ci++) for (let co = 0; co < C; co++) y[o * C + co] += x[i * C + ci] * w[(j * C + ci) * C + co];
    }
  return y;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.is(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test("setup: wasm backend", async () => {
  await initBackend("wasm");
});

test("im2col Conv1d (k = 5, 1), Downsample1d and Upsample1d equal PyTorch's definitions", () => {
  const rng = new Rng(3), N = 2, T = 8, C = 6;
  const xs = rng.normals(N * T * C), x = tf.tensor(xs, [N, T, C]);
  const cases: [string, tf.Tensor, (xn: Float32Array) => Float32Array, { dispose(): void }][] = [];
  const conv5 = new Conv1d(rng, C, 4, 5), conv1 = new Conv1d(rng, C, 4, 1), down = new Downsample(rng, C), up = new Upsample(rng, C);
  const wb = (m: { w: tf.Variable; b: tf.Variable }) => [m.w.dataSync() as Float32Array, m.b.dataSync() as Float32Array] as const;
  cases.push(["conv k=5", conv5.apply(tfOps, x), (xn) => refConv(xn, T, C, ...wb(conv5), 5, 4, 1, 2), conv5]);
  cases.push(["conv k=1", conv1.apply(tfOps, x), (xn) => refConv(xn, T, C, ...wb(conv1), 1, 4, 1, 0), conv1]);
  cases.push(["downsample", down.apply(tfOps, x), (xn) => refConv(xn, T, C, ...wb(down), 3, C, 2, 1), down]);
  cases.push(["upsample", up.apply(tfOps, x), (xn) => refConvTranspose(xn, T, C, ...wb(up)), up]);
  for (const [name, y, ref, m] of cases) {
    const got = y.dataSync(), per = got.length / N;
    for (let n = 0; n < N; n++) {
      const d = maxDiff(got.subarray(n * per, (n + 1) * per), ref(xs.subarray(n * T * C, (n + 1) * T * C)));
      assert.ok(d < 1e-5, `${name}, item ${n}: max |Δ| ${d}`);
    }
    assert.equal(y.shape, name === "downsample" ? [N, T / 2, C] : name === "upsample" ? [N, 2 * T, C] : [N, T, 4]);
    y.dispose();
    m.dispose();
  }
  x.dispose();
});

test("GroupNorm equals the textbook formula (statistics per item over time × the group's channels)", () => {
  const rng = new Rng(4), N = 2, T = 4, C = 8, G = 2, xs = rng.normals(N * T * C, 3);
  const gn = new GroupNorm(G, C);
  tf.tidy(() => gn.g.assign(tf.tensor(rng.normals(C)))); // non-trivial affine
  tf.tidy(() => gn.b.assign(tf.tensor(rng.normals(C))));
  const y = tf.tidy(() => gn.apply(tfOps, tf.tensor(xs, [N, T, C])));
  const g = gn.g.dataSync(), b = gn.b.dataSync(), want = new Float32Array(N * T * C), cg = C / G;
  for (let n = 0; n < N; n++)
    for (let gi = 0; gi < G; gi++) {
      const idx: number[] = [];
      for (let t = 0; t < T; t++) for (let c = gi * cg; c < (gi + 1) * cg; c++) idx.push((n * T + t) * C + c);
      const mean = idx.reduce((a, i) => a + xs[i], 0) / idx.length;
      const v = idx.reduce((a, i) => a + (xs[i] - mean) ** 2, 0) / idx.length;
      for (const i of idx) want[i] = ((xs[i] - mean) / Math.sqrt(v + 1e-5)) * g[i % C] + b[i % C];
    }
  const d = maxDiff(y.dataSync(), want);
  assert.ok(d < 1e-4, `max |Δ| ${d}`);
  y.dispose();
  gn.dispose();
});

async function gradients(backend: string): Promise<Map<string, Float32Array>> {
  await tf.setBackend(backend); // the wasm patches stay registered from setup
  await tf.ready();
  const model = make(SMALL, 3);
  const batch = buildWindows(buf, layout, norms, [0, 10, 29, 30, 41, 54], model.window, model.horizon, model.positionsPerWindow, new Rng(1));
  const params = model.parameters(), names = [...params.keys()];
  const { value, grads } = tf.variableGrads(() => model.loss(batch, new Rng(7)), names.map((n) => params.get(n)!));
  const out = new Map(names.map((n) => [n, grads[params.get(n)!.name].dataSync().slice() as Float32Array]));
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

test("gradients of every parameter on wasm equal cpu's (max |Δ| < 1e-4)", async () => {
  const cpu = await gradients("cpu");
  const wasm = await gradients("wasm");
  let worst = 0, name = "", zero = 0;
  for (const [n, g] of cpu) {
    const d = maxDiff(g, wasm.get(n)!);
    if (d > worst) [worst, name] = [d, n];
    if (g.every((v) => v === 0)) zero++;
  }
  assert.is(zero, 0, "some parameter gets no gradient");
  assert.ok(worst < 1e-4, `worst ${worst} at ${name}`);
});

test("a rollout on cpu equals wasm: the policy keeps its own copy of each observed frame (cpu keeps the given array)", async () => {
  const o = (t: number) => ({ "observation.state": Float32Array.of(Math.sin(t), Math.cos(t), 0.3 * t) });
  const roll = async (backend: string) => {
    await tf.setBackend(backend);
    const p = new LearnedPolicy("dp-unet", make(SMALL, 5), layout, norms);
    p.reset(0);
    const chunks: number[] = [];
    for (let t = 0; t < 5; t++) {
      p.observe({ obs: o(t), prevAction: null });
      chunks.push(...p.sampleChunk({ seed: t, steps: 3 }));
    }
    p.dispose();
    return chunks;
  };
  const cpu = await roll("cpu"), wasm = await roll("wasm");
  assert.ok(maxDiff(cpu, wasm) < 1e-4, `max |Δ| ${maxDiff(cpu, wasm)}`);
});

test("DDIM sampler: [B, H, A] chunks in [−1, 1] for 3 streams, at K = 10 and K = 1", () => {
  const model = make(SMALL);
  model.reset(3);
  const f = tf.tensor(new Rng(2).normals(3 * layout.frameDim), [3, layout.frameDim]);
  model.observe(f);
  model.observe(f);
  for (const K of [10, 1]) {
    const before = tf.memory().numTensors;
    const y = model.sample(K, new Rng(9));
    assert.equal(y.shape, [3, 8, 2]);
    const v = y.dataSync();
    assert.ok(v.every((x) => Number.isFinite(x) && x >= -1 && x <= 1));
    y.dispose();
    assert.is(tf.memory().numTensors, before, "sample leaks");
  }
  f.dispose();
  model.dispose();
});

test("the first frame after reset fills the history; training windows at an episode start repeat it too", () => {
  const p = new LearnedPolicy("dp-unet", make(SMALL), layout, norms);
  const o = (t: number) => ({ "observation.state": Float32Array.of(Math.sin(t), Math.cos(t), 0.3 * t) });
  const run = (ts: number[]) => {
    p.reset(0);
    ts.forEach((t) => p.observe({ obs: o(t), prevAction: null }));
    return Array.from(p.sampleChunk({ seed: 4, steps: 3 }));
  };
  assert.equal(run([5]), run([5, 5]));
  assert.equal(run([1, 2, 5]), run([2, 5]));
  assert.ok(maxDiff(run([5]), run([2, 5])) > 1e-4, "the older frame has no effect");
  p.dispose();
  // windows anchored at step 0 of each episode ([pad, f0]) and at step 3 ([f2, f3])
  const b = buildWindows(buf, layout, norms, [0, 30, 3], 2, 8, 1, new Rng(1));
  const h = obsHistory(b, 2, 3), fr = (i: number, j: number) => Array.from(b.frames.subarray((i * 2 + j) * 3, (i * 2 + j + 1) * 3));
  for (let i = 0; i < 3; i++) {
    const row = Array.from(h.subarray(i * 6, (i + 1) * 6));
    assert.equal(row, i < 2 ? [...fr(i, 1), ...fr(i, 1)] : [...fr(i, 0), ...fr(i, 1)], `window ${i}`);
  }
  assert.equal([b.keyPad[0], b.keyPad[2], b.keyPad[4]], [1, 1, 0]);
});

test("the loss falls on a fixed batch (three U-Net levels, kernel 5)", () => {
  const model = make(SMALL);
  const batch = buildWindows(buf, layout, norms, [0, 3, 10, 29, 31, 40, 54], model.window, model.horizon, model.positionsPerWindow, new Rng(5));
  const opt = new AdamW(model.parameters(), { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: 1, emaDecay: 0.9 }, () => 1);
  const losses: number[] = [];
  for (let i = 0; i < 30; i++) losses.push(opt.minimize(() => model.loss(batch, new Rng(7))).loss);
  assert.ok(losses.every(Number.isFinite));
  assert.ok(losses.at(-1)! < 0.5 * losses[0], `loss ${losses[0]} → ${losses.at(-1)}`);
  opt.dispose();
  model.dispose();
});

test.run();
