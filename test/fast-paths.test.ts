/**
 * The training-speed fixes compute the same function as the stock path: SCD gradients with every fix on (wasm,
 * patched kernels) equal the cpu backend's and the stock wasm path's; the prefix-axis Sum and the shared
 * Identity kernels equal cpu and do not leak; the fused AdamW equals the tensor AdamW step for step.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import "../src/policies/index.ts";
import { applyWasmPatches, removeWasmPatches } from "../src/backend/wasm-patches.ts";
import { setFastPaths, fastPaths } from "../src/backend/fast-paths.ts";
import { trainKernelsApplied } from "../src/backend/train-kernels.ts";
import { policyDef } from "../src/policies/registry.ts";
import { frameLayout, buildWindows } from "../src/policies/frames.ts";
import { concatEpisodes } from "../src/datasets/episodes.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { AdamW } from "../src/train/adamw.ts";
import { Rng } from "../src/util/rng.ts";

const layout = frameLayout([{ name: "observation.state", dim: 3 }], 2);
const norms = { "observation.state": fitNormalizer(Float32Array.of(-1, -1, -1, 1, 1, 1), 3, "minmax"), action: fitNormalizer(Float32Array.of(0, 0, 10, 10), 2, "minmax") };
const ep = (n: number) => ({ "observation.state": Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(i)), action: Float32Array.from({ length: 2 * n }, (_, i) => 5 + 4 * Math.cos(i / 3)) });
const buf = concatEpisodes({ "observation.state": { shape: [3] }, action: { shape: [2] } }, [ep(30), ep(25)]);
const CONFIGS: Record<string, Record<string, unknown>> = {
  transformer: { dModel: 32, encLayers: 2, decDModel: 32, decLayers: 2, horizon: 4, history: 3, window: 6, positionsPerWindow: 3 },
  mlp: { dModel: 32, encLayers: 2, decoder: "mlp", decDModel: 32, decLayers: 2, horizon: 4, history: 3, window: 6, positionsPerWindow: 3 },
};

async function gradients(backend: string, fast: boolean, over: Record<string, unknown>): Promise<Map<string, Float32Array>> {
  await tf.setBackend(backend);
  await tf.ready();
  if (backend === "wasm") applyWasmPatches();
  setFastPaths(fast);
  const def = policyDef("scd");
  const model = def.create(def.configSchema.parse(over), layout, 3);
  const batch = buildWindows(buf, layout, norms, [3, 10, 29, 31, 40, 54], model.window, model.horizon, model.positionsPerWindow, new Rng(1));
  const params = model.parameters();
  const names = [...params.keys()];
  const { value, grads } = tf.variableGrads(() => model.loss(batch, new Rng(7)), names.map((n) => params.get(n)!));
  const out = new Map(names.map((n) => [n, grads[params.get(n)!.name].dataSync() as Float32Array]));
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  setFastPaths(true);
  return out;
}

function worstDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): { worst: number; name: string } {
  let worst = 0, name = "";
  for (const [n, g] of a) {
    const h = b.get(n)!;
    assert.is(h.length, g.length, n);
    for (let i = 0; i < g.length; i++) if (Math.abs(g[i] - h[i]) > worst) [worst, name] = [Math.abs(g[i] - h[i]), n];
  }
  return { worst, name };
}

for (const [kind, over] of Object.entries(CONFIGS)) {
  test(`SCD (${kind} decoder) gradients: wasm with every fix = cpu = stock wasm (max |Δ| < 2e-5)`, async () => {
    const cpu = await gradients("cpu", false, over);
    const fast = await gradients("wasm", true, over);
    const stock = await gradients("wasm", false, over);
    const nonzero = [...cpu.values()].filter((g) => g.some((x) => x !== 0)).length;
    assert.ok(nonzero >= cpu.size - 1, `${cpu.size - nonzero} parameters have all-zero gradients`);
    for (const [label, other] of [["cpu", cpu], ["stock wasm", stock]] as const) {
      const d = worstDiff(other, fast);
      assert.ok(d.worst < 2e-5, `fast wasm vs ${label}: max |Δ| = ${d.worst} in ${d.name}`);
    }
    removeWasmPatches();
  });
}

test("prefix-axis Sum and shared Identity kernels equal cpu and free their memory", async () => {
  const cases: [number[], number | number[], boolean][] = [[[7, 5], 0, false], [[4, 3, 6], [0, 1], false], [[4, 3, 6], [1, 0], true], [[4, 3, 6], 0, true], [[4, 3, 6], -1, false], [[5], 0, false]];
  const on = async (backend: string) => {
    await tf.setBackend(backend);
    setFastPaths(true);
    return cases.map(([shape, axis, keep]) => tf.tidy(() => {
      const x = tf.tensor(new Rng(2).normals(shape.reduce((a, b) => a * b, 1)), shape);
      const y = tf.sum(x, axis, keep);
      return { shape: y.shape, values: Array.from(y.dataSync()) };
    }));
  };
  const cpu = await on("cpu");
  const wasm = await on("wasm");
  assert.ok(trainKernelsApplied());
  cpu.forEach((c, i) => {
    assert.equal(wasm[i].shape, c.shape, `case ${i}`);
    c.values.forEach((v, j) => assert.ok(Math.abs(v - wasm[i].values[j]) < 1e-5, `case ${i}[${j}]: ${v} vs ${wasm[i].values[j]}`));
  });
  const before = tf.memory();
  const x = tf.tensor([1, 2, 3]);
  const y = tf.clone(x); // clone runs the Identity kernel
  x.dispose();
  assert.equal(Array.from(y.dataSync()), [1, 2, 3], "identity keeps its data after the input is disposed");
  y.dispose();
  for (let i = 0; i < 20; i++) tf.tidy(() => tf.sum(tf.ones([64, 32]), 0).dataSync());
  assert.is(tf.memory().numTensors, before.numTensors);
  assert.is(tf.memory().numBytes, before.numBytes);
});

test("fused AdamW (+ EMA warm-up) equals the tensor AdamW step for step; state round-trips", async () => {
  await tf.setBackend("wasm");
  applyWasmPatches();
  const def = policyDef("scd");
  const cfg = def.configSchema.parse(CONFIGS.transformer);
  const batch = buildWindows(buf, layout, norms, [3, 10, 29, 31, 40, 54], 6, 4, 3, new Rng(1));
  const run = (fused: boolean) => {
    fastPaths.fusedAdamW = fused;
    const model = def.create(cfg, layout, 3);
    const opt = new AdamW(model.parameters(), { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, clip: 0.5, emaDecay: 0.999, emaPower: 0.75 }, (n) => model.lrMult(n));
    assert.is(opt.fused, fused);
    for (let i = 0; i < 5; i++) opt.minimize(() => model.loss(batch, new Rng(i)), 0.5 + 0.1 * i);
    const st = opt.getState();
    opt.dispose();
    model.dispose();
    return st;
  };
  const a = run(true), b = run(false);
  fastPaths.fusedAdamW = true;
  let worst = 0;
  for (const part of ["m", "v", "ema"] as const)
    for (const [k, arr] of Object.entries(a[part])) for (let i = 0; i < arr.length; i++) worst = Math.max(worst, Math.abs(arr[i] - b[part][k][i]));
  assert.ok(worst < 1e-4, `max |fused − tensor| over m, v, EMA = ${worst}`); // float64 vs float32 arithmetic
  const model = def.create(cfg, layout, 3);
  const opt = new AdamW(model.parameters(), { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: 1, emaDecay: 0.99 });
  opt.setState(a);
  assert.equal(opt.getState(), a);
  assert.is(opt.emaDecayAt(1), 0.99);
  opt.dispose();
  model.dispose();
  await tf.setBackend("cpu");
});

test.run();
