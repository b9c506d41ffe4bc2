/**
 * Contract tests, run on every registered learned policy at each of its registration's smallConfigs: the default config parses; save → load gives identical
 * samples for a fixed seed; the same seed gives the same chunk; tf.memory().numTensors stays flat over 200
 * control frames; the loss is finite and falls on a fixed batch. Plus: the KV-cached incremental encoder equals
 * the full-sequence encoder, inside and beyond the attention window.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { policyNames, policyDef } from "../src/policies/registry.ts";
import { frameLayout, buildWindows } from "../src/policies/frames.ts";
import { LearnedPolicy, modelWeights } from "../src/policies/learned.ts";
import { loadPolicy } from "../src/checkpoints/load-checkpoint.ts";
import { writeCheckpoint } from "../src/checkpoints/checkpoint.ts";
import { CausalEncoder } from "../src/nn/causal-encoder.ts";
import { concatEpisodes } from "../src/datasets/episodes.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { AdamW } from "../src/train/adamw.ts";
import { Rng } from "../src/util/rng.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-pol-"));
const norms = { "observation.state": fitNormalizer(Float32Array.of(-1, -1, -1, 1, 1, 1), 3, "minmax"), action: fitNormalizer(Float32Array.of(0, 0, 10, 10), 2, "minmax") };
/** Every registered policy at each of its small configs (its registration's smallConfigs: decoder kinds, objectives,
 * frame contents), the frame layout from its frame options. */
const CASES = policyNames().flatMap((name) => {
  const def = policyDef(name);
  return (def.smallConfigs ?? [{}]).map((cfg, i) => {
    const parsed = def.configSchema.parse(cfg) as Record<string, unknown>;
    return { id: `${name} (config ${i})`, name, cfg, layout: frameLayout([{ name: "observation.state", dim: 3 }], 2, def.frameOptions?.(parsed) ?? {}) };
  });
});
const obsAt = (t: number) => ({ "observation.state": Float32Array.of(Math.sin(t), Math.cos(t), 0.1 * (t % 7)) });

function make(c: (typeof CASES)[number], seed = 1) {
  const def = policyDef(c.name);
  const cfg = def.configSchema.parse(c.cfg);
  return { def, cfg, model: def.create(cfg, c.layout, seed) };
}

function rollout(p: LearnedPolicy, frames: number, seed: number): Float32Array[] {
  p.reset(seed);
  const out: Float32Array[] = [];
  let prev: Float32Array | null = null;
  for (let t = 0; t < frames; t++) {
    p.observe({ obs: obsAt(t), prevAction: prev });
    const c = p.sampleChunk({ seed: seed * 1000 + t, steps: 3 });
    prev = c.slice(0, 2);
    out.push(c);
  }
  return out;
}

test("setup: wasm backend", async () => {
  await initBackend("wasm");
  assert.ok(policyNames().length >= 4, policyNames().join(","));
});

for (const pc of CASES) {
  const { name, layout } = pc;
  test(`${pc.id}: default config parses and bad config is refused with the field named`, () => {
    const def = policyDef(name);
    assert.ok(def.configSchema.safeParse({}).success);
    const bad = def.configSchema.safeParse({ horizon: 0 });
    assert.not.ok(bad.success);
    assert.equal(bad.error!.issues[0].path, ["horizon"]);
  });

  test(`${pc.id}: same seed → same chunk; save → load → identical samples`, () => {
    const { model, cfg } = make(pc);
    const p = new LearnedPolicy(name, model, layout, norms);
    const a = rollout(p, 6, 3), b = rollout(p, 6, 3);
    assert.equal(a.map((x) => Array.from(x)), b.map((x) => Array.from(x)));
    assert.is(a[0].length, model.horizon * 2);
    const ckpt = path.join(dir, pc.id.replace(/\W+/g, "_"));
    writeCheckpoint(ckpt, { format: "scd-checkpoint", version: 1, policy: name, config: cfg as Record<string, unknown>, layout, normalizers: norms, step: 0, numParams: model.numParams(), seed: 1, info: {} }, modelWeights(model));
    const q = loadPolicy(ckpt);
    const c = rollout(q, 6, 3);
    assert.equal(c.map((x) => Array.from(x)), a.map((x) => Array.from(x)));
    q.dispose();
    p.dispose();
  });

  test(`${pc.id}: sampleChunk refuses steps 0, 1.5 or NaN and a fractional seed by name, before any tensor op`, () => {
    const { model } = make(pc);
    const p = new LearnedPolicy(name, model, layout, norms);
    p.reset(0);
    p.observe({ obs: { "observation.state": Float32Array.of(0, 0, 0) }, prevAction: Float32Array.of(0, 0) });
    const before = tf.memory().numTensors;
    for (const steps of [0, 1.5, NaN]) assert.throws(() => p.sampleChunk({ steps }), new RegExp(`sampleChunk: steps \\(denoising steps\\) must be an integer from 1 to 10000, got ${steps}`));
    assert.throws(() => p.sampleChunk({ seed: 0.5 }), /sampleChunk: seed must be an integer, got 0\.5/);
    assert.is(tf.memory().numTensors, before);
    assert.is(p.sampleChunk({ steps: 1 }).length, model.horizon * 2);
    p.dispose();
  });

  test(`${pc.id}: tf.memory().numTensors stays flat over 200 control frames`, () => {
    const { model } = make(pc);
    const p = new LearnedPolicy(name, model, layout, norms);
    rollout(p, 20, 1); // warm caches to their steady size
    const before = tf.memory().numTensors;
    rollout(p, 200, 2);
    const after = tf.memory().numTensors;
    assert.ok(Math.abs(after - before) <= 0, `numTensors ${before} → ${after}`);
    p.dispose();
  });

  test(`${pc.id}: the loss is finite and falls on a fixed batch`, () => {
    const { model } = make(pc);
    const rng = new Rng(5);
    const ep = (n: number) => ({ "observation.state": Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(i)), action: Float32Array.from({ length: 2 * n }, (_, i) => 5 + 4 * Math.cos(i / 3)) });
    const buf = concatEpisodes({ "observation.state": { shape: [3] }, action: { shape: [2] } }, [ep(30), ep(25)]);
    const batch = buildWindows(buf, layout, norms, [3, 10, 29, 31, 40, 54], model.window, model.horizon, model.positionsPerWindow, rng);
    const opt = new AdamW(model.parameters(), { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: 1, emaDecay: 0.9 }, (n) => model.lrMult(n));
    const losses: number[] = [];
    for (let i = 0; i < 25; i++) losses.push(opt.minimize(() => model.loss(batch, new Rng(7))).loss);
    assert.ok(losses.every(Number.isFinite));
    assert.ok(losses.at(-1)! < 0.7 * losses[0], `loss ${losses[0]} → ${losses.at(-1)}`);
    opt.dispose();
    model.dispose();
  });
}

test("KV-cached incremental encoder equals the full-sequence encoder (within and beyond the window)", () => {
  const band = 5, L = 13, F = 6;
  const enc = new CausalEncoder(new Rng(4), F, 32, 3, 4, 4, band);
  const frames = tf.tensor(new Rng(9).normals(L * F), [1, L, F]);
  const full = tf.tidy(() => enc.forward(frames, tf.zeros([1, L])));
  enc.resetCache();
  let worst = 0;
  for (let t = 0; t < L; t++) {
    const x = frames.slice([0, t, 0], [1, 1, F]).squeeze([1]);
    const c = enc.observe(x);
    x.dispose();
    const d = tf.tidy(() => c.sub(full.slice([0, t, 0], [1, 1, -1]).squeeze([1])).abs().max().dataSync()[0]);
    worst = Math.max(worst, d);
    c.dispose();
  }
  assert.ok(worst < 1e-4, `max |incremental − full| = ${worst}`);
  enc.dispose();
  tf.dispose([frames, full]);
});

test("padded frames before an episode start are invisible to the encoder", () => {
  const enc = new CausalEncoder(new Rng(4), 4, 16, 2, 2, 2, 8);
  const x = tf.tensor(new Rng(1).normals(8 * 4), [1, 8, 4]);
  const junk = tf.concat([tf.fill([1, 3, 4], 99), x.slice([0, 3, 0], [1, 5, 4])], 1);
  const pad = tf.tensor([[1, 1, 1, 0, 0, 0, 0, 0]]);
  const a = enc.forward(x.slice([0, 3, 0], [1, 5, 4]), tf.zeros([1, 5]));
  const b = enc.forward(junk, pad).slice([0, 3, 0], [1, 5, -1]);
  assert.ok(a.sub(b).abs().max().dataSync()[0] < 1e-4);
  tf.dispose([x, junk, pad, a, b]);
  enc.dispose();
});

test.run();
