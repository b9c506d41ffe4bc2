/**
 * Bounded memory in one process on the wasm backend (src/backend/memory.ts), every registered policy:
 * - backprop that frees each tape node's saved tensors and output gradients once past it gives tfjs's gradients
 *   exactly, at about half the peak (the tensor buffers allocated on the wasm heap, measured at its malloc);
 * - building, training (stock and fast paths, as `npm run bench -- train`), sampling and disposing every policy
 *   at its default config, twice over: tensors back to baseline after each, the heap flat on the second pass;
 * - a step that runs the heap out throws a catchable error, leaves no tensor behind, and the next model trains
 *   (it used to keep its forward pass alive and write the next tensor to address 0: exit 7 two models later).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as tf from "@tensorflow/tfjs";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { setFastPaths } from "../src/backend/fast-paths.ts";
import { setLeanBackprop, wasmHeapBytes, wasmModule } from "../src/backend/memory.ts";
import { policyNames, policyDef, type PolicyModel } from "../src/policies/registry.ts";
import { frameLayout, buildWindows } from "../src/policies/frames.ts";
import { LearnedPolicy } from "../src/policies/learned.ts";
import { concatEpisodes } from "../src/datasets/episodes.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { AdamW } from "../src/train/adamw.ts";
import { Rng } from "../src/util/rng.ts";

// Push-T's sizes: 18 keypoint values + 2 agent position, 2-D actions
const OBS = [{ name: "observation.state", dim: 20 }];
const ep = (n: number, k: number) => ({ "observation.state": Float32Array.from({ length: 20 * n }, (_, i) => Math.sin(i * 0.37 + k)), action: Float32Array.from({ length: 2 * n }, (_, i) => 200 + 100 * Math.cos(i / 7 + k)) });
const buf = concatEpisodes({ "observation.state": { shape: [20] }, action: { shape: [2] } }, [ep(120, 0), ep(90, 1), ep(150, 2)]);
const N = buf.episodeEnds[buf.episodeEnds.length - 1];
const norms = { "observation.state": fitNormalizer(buf.data["observation.state"] as Float32Array, 20, "minmax"), action: fitNormalizer(buf.data.action as Float32Array, 2, "minmax") };
const MB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;

function build(name: string, seed = 0, over: Record<string, unknown> = {}) {
  const def = policyDef(name);
  const cfg = def.configSchema.parse(over) as Record<string, unknown>;
  const layout = frameLayout(OBS, 2, def.frameOptions?.(cfg) ?? {});
  return { model: def.create(cfg, layout, seed) as PolicyModel, layout };
}

function batchOf(model: PolicyModel, layout: ReturnType<typeof frameLayout>, B: number, rng: Rng) {
  const anchors = Array.from({ length: B }, () => rng.int(N));
  return buildWindows(buf, layout, norms, anchors, model.window, model.horizon, model.positionsPerWindow, rng);
}

const newAdamW = (model: PolicyModel) => new AdamW(model.parameters(), { lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 1e-6, clip: 1, emaDecay: 0.75 }, (p) => model.lrMult(p));

/** Peak bytes of tensor buffers (the backend's mallocs) above the level at the start of `f`. */
function peakTensorBytes(f: () => void): number {
  const w = wasmModule() as unknown as { _malloc(n: number): number; _free(p: number): void };
  const malloc = w._malloc, free = w._free, sizes = new Map<number, number>();
  let live = 0, peak = 0;
  w._malloc = (n) => {
    const p = malloc(n);
    sizes.set(p, n);
    peak = Math.max(peak, (live += n));
    return p;
  };
  w._free = (p) => {
    live -= sizes.get(p) ?? 0;
    sizes.delete(p);
    free(p);
  };
  try {
    f();
  } finally {
    w._malloc = malloc;
    w._free = free;
  }
  return peak;
}

test("setup: wasm backend", async () => {
  const r = await initBackend("wasm");
  assert.is(r.backend, "wasm");
  assert.ok(wasmHeapBytes()! > 0);
});

test("lean backprop: every policy's gradients equal tfjs's own; a entangled-diffusion step peaks at about half", () => {
  for (const name of policyNames()) {
    const { model, layout } = build(name, 1);
    const params = model.parameters(), names = [...params.keys()];
    const b = batchOf(model, layout, 4, new Rng(2));
    const grads = (lean: boolean) => {
      setLeanBackprop(lean);
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => model.loss(b, new Rng(7)), names.map((n) => params.get(n)!));
      const out = names.map((n) => grads[params.get(n)!.name].dataSync().slice());
      tf.dispose([value, ...Object.values(grads)]);
      assert.is(tf.memory().numTensors, before, `${name}: tensors left by a ${lean ? "lean" : "stock"} backprop`);
      return out;
    };
    const stock = grads(false), lean = grads(true);
    lean.forEach((g, i) => assert.ok(g.every((x, j) => Object.is(x, stock[i][j])), `${name}: gradient of ${names[i]} differs`));
    model.dispose();
  }
  // default config, batch 8, both benchmark paths: the stock one (fixes off) copies every saved tensor
  for (const fast of [true, false]) {
    setFastPaths(fast);
    const { model, layout } = build("entangled-diffusion");
    const params = [...model.parameters().values()];
    const step = (lean: boolean) => {
      setLeanBackprop(lean);
      const b = batchOf(model, layout, 8, new Rng(5));
      return peakTensorBytes(() => {
        const { value, grads } = tf.variableGrads(() => model.loss(b, new Rng(7)), params);
        tf.dispose([value, ...Object.values(grads)]);
      });
    };
    const [stockPeak, leanPeak] = [step(false), step(true)];
    // measured: fast 374 → 165 MB (0.44), stock 558 → 380 MB (0.68; its forward already holds two copies)
    assert.ok(leanPeak < (fast ? 0.5 : 0.75) * stockPeak, `${fast ? "fast" : "stock"} path: lean peak ${MB(leanPeak)} vs tfjs's ${MB(stockPeak)}`);
    model.dispose();
  }
  setFastPaths(true);
  setLeanBackprop(true);
});

/** One pass over the registry at default configs: build, train (stock and fast, interleaved), sample, dispose. */
function pass(tag: string): void {
  for (const name of policyNames()) {
    const base = tf.memory().numTensors;
    const runs = [false, true].map((fast) => {
      setFastPaths(fast);
      const { model, layout } = build(name);
      return { model, layout, opt: newAdamW(model), rng: new Rng(3), fast };
    });
    for (let i = 0; i < 2; i++)
      for (const r of runs) {
        setFastPaths(r.fast);
        const b = batchOf(r.model, r.layout, 8, r.rng);
        const { loss } = r.opt.minimize(() => r.model.loss(b, r.rng));
        assert.ok(Number.isFinite(loss), `${name}: loss ${loss}`);
      }
    setFastPaths(true);
    // an evaluation: the trained model as a policy, a few frames and chunks
    const { model, layout } = runs[1];
    const p = new LearnedPolicy(name, model, layout, norms);
    p.reset(0);
    for (let t = 0; t < 3; t++) {
      p.observe({ obs: { "observation.state": buf.data["observation.state"].slice(20 * t, 20 * t + 20) as Float32Array }, prevAction: t ? Float32Array.of(210, 190) : null });
      const chunk = p.sampleChunk({ seed: t, steps: 2 });
      assert.ok(chunk.length === model.horizon * 2 && chunk.every(Number.isFinite), `${name}: chunk`);
    }
    p.dispose(); // disposes runs[1].model
    runs[0].model.dispose();
    runs.forEach((r) => r.opt.dispose());
    assert.is(tf.memory().numTensors, base, `${tag}: ${name} left tensors`);
  }
}

test("every registered policy, built, trained, sampled and disposed in turn, twice: tensors at baseline, heap flat", () => {
  const base = tf.memory().numTensors;
  pass("pass 1");
  const heap1 = wasmHeapBytes()!;
  pass("pass 2");
  const heap2 = wasmHeapBytes()!;
  assert.is(tf.memory().numTensors, base);
  // the first pass sets the high-water mark; a leak or fragmentation that compounds would grow it again
  assert.ok(heap2 <= heap1 + 16 * 2 ** 20, `heap ${MB(heap1)} after pass 1, ${MB(heap2)} after pass 2`);
});

test("a step that runs the wasm heap out: a catchable error, no tensor left, the next model trains", () => {
  const base = tf.memory().numTensors, heap = wasmHeapBytes()!;
  const { model, layout } = build("entangled-diffusion");
  const opt = newAdamW(model);
  const withModel = tf.memory().numTensors;
  const b = batchOf(model, layout, 8, new Rng(4));
  // a whole forward pass on the tape, then a tensor that cannot fit beside it: malloc's signed sbrk used to wrap
  // such a request and move the heap's end down over live tensors (the release below then failed in dispose_data)
  const huge = (bytes: number) => tf.tile(tf.ones([1]), [bytes / 4]).sum() as tf.Scalar;
  for (const [bytes, mb] of [[0xfe000000, "4064.0"], [0xffff0000, "4095.9"]] as const) {
    assert.throws(() => opt.minimize(() => model.loss(b, new Rng(7)).add(huge(bytes))), new RegExp(`wasm heap exhausted: ${mb.replace(".", "\\.")} MB requested`));
    assert.is(tf.memory().numTensors, withModel, "the failed step's tape and intermediates are released");
  }
  assert.ok(wasmHeapBytes()! <= heap + 16 * 2 ** 20, `heap ${MB(heap)} → ${MB(wasmHeapBytes()!)}`);
  for (let i = 0; i < 2; i++) assert.ok(Number.isFinite(opt.minimize(() => model.loss(b, new Rng(i))).loss));
  opt.dispose();
  model.dispose();
  const next = build("dp-unet");
  const o2 = newAdamW(next.model);
  assert.ok(Number.isFinite(o2.minimize(() => next.model.loss(batchOf(next.model, next.layout, 8, new Rng(1)), new Rng(2))).loss));
  o2.dispose();
  next.model.dispose();
  assert.is(tf.memory().numTensors, base);
});

test.run();
