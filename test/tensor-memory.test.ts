/**
 * Robustness 5: tf.memory() returns to its previous value after dispose() of everything that owns tensors
 * (models, policies, optimizers, evaluations, training runs), and stays flat across --eval-every evaluations.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import "../src/policies/index.ts";
import "../src/envs/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { fastPaths } from "../src/backend/fast-paths.ts";
import { policyNames, policyDef } from "../src/policies/registry.ts";
import { frameLayout, buildWindows } from "../src/policies/frames.ts";
import { LearnedPolicy } from "../src/policies/learned.ts";
import { loadPolicy } from "../src/checkpoints/load-checkpoint.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { concatEpisodes } from "../src/datasets/episodes.ts";
import { AdamW } from "../src/train/adamw.ts";
import { train } from "../src/train/train.ts";
import { TrainConfig } from "../src/train/config.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { Rng } from "../src/util/rng.ts";
import { ROOT } from "./helpers.ts";
import { writeReachDemos } from "./demos.ts";

const SHIPPED = path.join(ROOT, "assets/checkpoints/scd-pusht");
const mem = () => ({ numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes });
const norms = { "observation.state": fitNormalizer(Float32Array.of(-1, -1, 1, 1), 2, "minmax"), action: fitNormalizer(Float32Array.of(-1, -1, 1, 1), 2, "minmax") };
/** A registered policy's first small config (its registration's smallConfigs), and the frame layout it implies. */
function small(name: string): { config: Record<string, unknown>; layout: ReturnType<typeof frameLayout> } {
  const def = policyDef(name);
  const config = def.configSchema.parse(def.smallConfigs?.[0] ?? {}) as Record<string, unknown>;
  return { config, layout: frameLayout([{ name: "observation.state", dim: 2 }], 2, def.frameOptions?.(config) ?? {}) };
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-leaks-"));
const data = path.join(dir, "reach.scdd");

test("setup: wasm backend, 6 reaching demonstrations", async () => {
  await initBackend("wasm");
  await writeReachDemos(data, 6);
});

test("loadPolicy(shipped checkpoint).dispose() four times: tf.memory() back to where it was (was +178 tensors each)", () => {
  const before = mem();
  for (let i = 0; i < 4; i++) loadPolicy(SHIPPED).dispose();
  assert.equal(mem(), before);
});

test("every registered policy: create, run frames and chunks, dispose → no tensor left", () => {
  for (const name of policyNames()) {
    const before = mem();
    const { config, layout } = small(name);
    const p = new LearnedPolicy(name, policyDef(name).create(config, layout, 1), layout, norms);
    p.reset(0);
    for (let t = 0; t < 6; t++) {
      p.observe({ obs: { "observation.state": Float32Array.of(Math.sin(t), 0.5) }, prevAction: t ? Float32Array.of(0.1, 0.2) : null });
      p.sampleChunk({ seed: t, steps: 2 });
    }
    p.dispose();
    assert.equal(mem(), before, name);
  }
});

test("AdamW (fused and tensor paths): minimize, dispose with its model → no tensor left", () => {
  const fused = fastPaths.fusedAdamW;
  try {
    for (const f of [true, false]) {
      fastPaths.fusedAdamW = f;
      const before = mem();
      const { config, layout } = small("mlp-bc");
      const model = policyDef("mlp-bc").create(config, layout, 1);
      const opt = new AdamW(model.parameters(), { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 1e-4, clip: 1, emaDecay: 0.99 });
      const buf = concatEpisodes({ "observation.state": { shape: [2] }, action: { shape: [2] } }, [{ "observation.state": new Float32Array(40).map((_, i) => Math.sin(i)), action: new Float32Array(40).map((_, i) => Math.cos(i)) }]);
      const rng = new Rng(0);
      const batch = buildWindows(buf, layout, norms, [10, 15], model.window, model.horizon, model.positionsPerWindow, rng);
      for (let i = 0; i < 2; i++) opt.minimize(() => model.loss(batch, rng));
      opt.dispose();
      model.dispose();
      assert.equal(mem(), before, f ? "fused" : "tensor ops");
    }
  } finally {
    fastPaths.fusedAdamW = fused;
  }
});

test("evaluate() of learned policies (2 slots) → no tensor left", async () => {
  const before = mem();
  const { config, layout } = small("scd");
  const make = async () => new LearnedPolicy("scd", policyDef("scd").create(config, layout, 1), layout, norms);
  await evaluate({ makeEnv: () => makeEnv("reach-obstacle-v1"), makePolicy: make, episodes: 2, seedStart: 0, parallel: 2, loop: { strategy: { kind: "receding", execute: 4 }, latencyMs: 0, steps: 2 } });
  assert.equal(mem(), before);
});

test("train() with --eval-every evaluations: flat across evaluations, nothing left after the run", async () => {
  const before = mem();
  const during: number[] = [];
  const cfg = TrainConfig.parse({ policy: "scd", policyConfig: small("scd").config, dataset: data, steps: 6, batch: 4, warmup: 1, valEvery: 2, ckptEvery: 3, evalEvery: 2, out: path.join(dir, "run"), valFraction: 0.2 });
  await train(cfg, {
    quiet: true,
    evalHook: async (p) => {
      const r = await evaluate({ makeEnv: () => makeEnv("reach-obstacle-v1"), makePolicy: async () => p, episodes: 1, seedStart: 0, loop: { strategy: { kind: "receding", execute: 4 }, latencyMs: 0, steps: 2 } });
      during.push(tf.memory().numTensors);
      return { score: r.aggregated.avg_max_reward };
    },
  });
  assert.is(during.length, 3);
  assert.ok(during.every((n) => n === during[0]), `tensors after each evaluation: ${during}`);
  assert.equal(mem(), before);
});

test.run();
