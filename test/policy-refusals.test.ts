/**
 * A policy's bad numbers and mismatches are refused with the right behaviour: NaN inside a model or a frame (an error
 * event and the fallback), a checkpoint whose parts disagree (one line naming file, field and value; nothing leaks),
 * weights that overflow (eval exits 1 with the first reason), a topic map of another size (refused at start-up).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { BehaviorSubject, VirtualTimeScheduler, VirtualAction, map } from "rxjs";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { policyDef } from "../src/policies/registry.ts";
import { frameLayout } from "../src/policies/frames.ts";
import { LearnedPolicy, modelWeights } from "../src/policies/learned.ts";
import { loadPolicy } from "../src/checkpoints/load-checkpoint.ts";
import { readCheckpointMeta, writeCheckpoint, readWeights, type CheckpointMeta } from "../src/checkpoints/checkpoint.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { controlLoop, type LoopEvent } from "../src/loop/loop.ts";
import { ticks } from "../src/loop/ticks.ts";
import { summarizeLoop } from "../src/loop/metrics.ts";
import { parseTopicMap, checkMapAgainstPolicy } from "../src/ros/topic-map.ts";
import { box } from "../src/envs/types.ts";
import { ROOT, scd } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-robust-"));
const SHIPPED = path.join(ROOT, "assets/checkpoints/scd-pusht");
const layout = frameLayout([{ name: "observation.state", dim: 2 }], 2);
const norms = { "observation.state": fitNormalizer(Float32Array.of(-1, -1, 1, 1), 2, "minmax"), action: fitNormalizer(Float32Array.of(-1, -1, 1, 1), 2, "minmax") };
const tiny: Record<string, Record<string, unknown>> = { scd: { dModel: 16, heads: 2, encLayers: 1, decDModel: 16, horizon: 4, history: 4, prevAction: true }, "mlp-bc": { hidden: 16, horizon: 4, prevAction: true } };
const make = (name: string) => {
  const def = policyDef(name);
  const config = def.configSchema.parse(tiny[name]);
  return { config, policy: new LearnedPolicy(name, def.create(config, layout, 1), layout, norms) };
};
const obs = (x: number, y: number) => ({ "observation.state": Float32Array.of(x, y) });

test("setup: wasm backend", async () => {
  await initBackend("wasm");
  await tf.setBackend("wasm"); // test files share one process: an earlier file may have switched to cpu
  assert.is(tf.getBackend(), "wasm");
});

test("on wasm, clipByValue and fused matMul + relu keep NaN (as cpu does)", () => {
  const x = tf.tensor([NaN, 2, -2]);
  assert.equal(Array.from(x.clipByValue(-1, 1).dataSync()), [NaN, 1, -1]);
  const y = tf.fused.matMul({ a: x.reshape([3, 1]), b: tf.ones([1, 2]), bias: tf.zeros([2]), activation: "relu" });
  assert.equal(Array.from(y.dataSync()), [NaN, NaN, 2, 2, 0, 0]);
  tf.dispose([x, y]);
});

test("a NaN inside a model (scd: clip at the end; mlp-bc: fused relu) is an error event plus the fallback, counted", () => {
  for (const name of ["scd", "mlp-bc"]) {
    const { policy } = make(name);
    const [first] = policy.model.parameters().values();
    tf.tidy(() => first.assign(tf.fill(first.shape, NaN))); // what garbage in a layer looks like
    const sched = new VirtualTimeScheduler(VirtualAction, 200);
    const events: LoopEvent[] = [];
    controlLoop(policy, ticks(10, sched).pipe(map(() => ({ obs: obs(0.1, 0.2), t: sched.now() }))), { observationSpace: { "observation.state": box([2], -1, 1) }, actionSpace: box([2], -1, 1), actuator: () => {} }, { periodMs: 10, strategy: { kind: "receding", execute: 2 }, fallback: "zero", mode: "virtual", latencyMs: 0 }, sched).subscribe((e) => events.push(e));
    sched.flush();
    const s = summarizeLoop(events);
    assert.is(s.policyActions, 0, `${name}: no garbage action went out as a policy action`);
    assert.ok(s.errors >= s.ticks - 1 && s.fallbacks === s.ticks, `${name}: ${s.errors} errors, ${s.fallbacks} fallbacks of ${s.ticks} ticks`);
    assert.match(s.firstError!, /sampled a chunk that is not finite/);
    policy.dispose();
  }
});

test("a frame that is not finite after normalization never reaches the model; the loop falls back", () => {
  const { policy } = make("scd");
  policy.reset(0);
  assert.throws(() => policy.observe({ obs: obs(0.1, NaN), prevAction: null }), /frame is not finite: observation "observation.state"\[1\] = NaN normalizes to NaN/);
  assert.throws(() => policy.observe({ obs: obs(0.1, 0), prevAction: Float32Array.of(Infinity, 0) }), /previous action\[0\] = Infinity/);
  policy.dispose();
});

/** A copy of the shipped checkpoint with checkpoint.json edited. */
function shippedWith(name: string, edit: (m: Record<string, any>) => void): string {
  const d = path.join(dir, name);
  fs.cpSync(SHIPPED, d, { recursive: true });
  const m = JSON.parse(fs.readFileSync(path.join(d, "checkpoint.json"), "utf8"));
  edit(m);
  fs.writeFileSync(path.join(d, "checkpoint.json"), JSON.stringify(m));
  return d;
}

test("a checkpoint whose parts disagree is refused at load, naming file, field and value; nothing leaks", () => {
  const before = tf.memory().numTensors;
  const cases: [string, (m: Record<string, any>) => void, RegExp][] = [
    ["no-norm", (m) => delete m.normalizers["observation.agent_pos"], /checkpoint\.json: normalizers has no entry for "observation\.agent_pos" \(the layout needs observation\.keypoints \[18\], observation\.agent_pos \[2\], action \[2\]\)/],
    ["norm-dim", (m) => m.normalizers.action.min.push(0), /normalizers\["action"\] has dimension 3, the layout says 2/],
    ["frame-dim", (m) => (m.layout.frameDim += 1), /layout\.frameDim is \d+, but its features give \d+/],
    ["num-params", (m) => (m.numParams += 1), /numParams is \d+, but its scd config builds \d+ parameters/],
    ["config", (m) => (m.config.dModel = 130), /invalid scd config: dModel/],
  ];
  for (const [name, edit, re] of cases) assert.throws(() => loadPolicy(shippedWith(name, edit)).dispose(), re, name);
  // weight names and sizes are checked against the model the config builds
  const w = shippedWith("weights", () => {});
  const weights = readWeights(w);
  const k = Object.keys(weights)[0];
  writeCheckpoint(w, readCheckpointMeta(w), { ...weights, [k]: weights[k].subarray(1) });
  assert.throws(() => loadPolicy(w), new RegExp(`"${k.replace(/\./g, "\\.")}" has \\d+ values, the model expects`));
  assert.is(tf.memory().numTensors, before, "a refused checkpoint leaves no tensors");
  assert.ok(loadPolicy(SHIPPED), "the shipped checkpoint still loads");
});

test("scd eval on a checkpoint with a normalizer deleted exits 2 with the reason (real CLI)", () => {
  const d = shippedWith("cli-no-norm", (m) => delete m.normalizers["observation.agent_pos"]);
  const r = scd(["eval", "--policy", d, "--env", "pusht-v1", "--episodes", "1"]);
  assert.is(r.code, 2, r.stdout);
  assert.match(r.stderr, new RegExp(`scd: error: ${d}/checkpoint\\.json: normalizers has no entry for "observation\\.agent_pos"`));
});

/** A tiny mlp-bc checkpoint for the reaching task (state [2], action [2]); `scale` multiplies every weight. */
function reachCheckpoint(name: string, scale = 1): string {
  const { config, policy } = make("mlp-bc");
  const w = Object.fromEntries(Object.entries(modelWeights(policy.model)).map(([k, v]) => [k, v.map((x) => x * scale + (scale > 1 ? scale : 0))]));
  const meta: CheckpointMeta = { format: "scd-checkpoint", version: 1, policy: "mlp-bc", config: config as Record<string, unknown>, layout, normalizers: norms, step: 0, numParams: policy.model.numParams(), seed: 1, info: {} };
  const d = path.join(dir, name);
  writeCheckpoint(d, meta, w);
  policy.dispose();
  return d;
}

test("weights that overflow (finite, 1e30) make every chunk non-finite: eval exits 1 with the first reason (real CLI)", () => {
  const d = reachCheckpoint("overflow", 1e30);
  const r = scd(["eval", "--policy", d, "--env", "reach-obstacle-v1", "--episodes", "1", "--latency", "0"]);
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /scd: error: .*overflow on reach-obstacle-v1: every inference failed \(\d+ errors, \d+ fallback actions, no policy action\); the first: policy failed: mlp-bc sampled a chunk that is not finite/);
});

test("a topic map whose sizes differ from the policy's is refused at start-up", () => {
  const pol = { featureDims: { "observation.state": 2 }, actionDim: 2 };
  const mapWith = (obsFields: string[], actFields: string[]) =>
    parseTopicMap({ observations: [{ feature: "observation.state", topic: "/s", type: "geometry_msgs/Point", fields: obsFields }], action: { topic: "/c", type: "geometry_msgs/Twist", fields: actFields, low: actFields.map(() => -1), high: actFields.map(() => 1) } }, "m.json");
  assert.not.throws(() => checkMapAgainstPolicy(mapWith(["x", "y"], ["linear.x", "linear.y"]), pol, "m.json"));
  assert.throws(() => checkMapAgainstPolicy(mapWith(["x", "y", "z"], ["linear.x", "linear.y"]), pol, "m.json"), /topic map m\.json: observation\.state gives 3 values \(x, y, z\), the policy was trained on 2/);
  assert.throws(() => checkMapAgainstPolicy(mapWith(["x"], ["linear.x", "linear.y"]), pol, "m.json"), /observation\.state gives 1 values \(x\), the policy was trained on 2/);
  assert.throws(() => checkMapAgainstPolicy(mapWith(["x", "y"], ["linear.x", "linear.y", "linear.z"]), pol, "m.json"), /action gives 3 values \(linear\.x, linear\.y, linear\.z\), the policy produces 2/);
  assert.throws(() => checkMapAgainstPolicy(mapWith(["x", "y"], ["linear.x"]), pol, "m.json"), /action gives 1 values \(linear\.x\), the policy produces 2/);
});

test("scd run --test-server with a 3-value map and a policy trained on 2 exits 2 (real CLI)", () => {
  const d = reachCheckpoint("reach");
  const m = path.join(dir, "map3.json");
  fs.writeFileSync(m, JSON.stringify({ observations: [{ feature: "observation.state", topic: "/robot/state", type: "geometry_msgs/Point", fields: ["x", "y", "z"] }], action: { topic: "/robot/cmd", type: "geometry_msgs/Twist", fields: ["linear.x", "linear.y", "linear.z"], low: [-1, -1, -1], high: [1, 1, 1] } }));
  const r = scd(["run", "--policy", d, "--test-server", "--map", m, "--duration", "2"]);
  assert.is(r.code, 2, r.stdout);
  assert.match(r.stderr, new RegExp(`scd: error: topic map ${m}: observation\\.state gives 3 values \\(x, y, z\\), the policy was trained on 2`));
});

test.run();
