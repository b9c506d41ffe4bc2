/**
 * Issue 10's bad inputs, each with its right behaviour: non-finite values on wasm (1), checkpoints whose parts
 * disagree and runs whose every inference failed (2), topic maps of the wrong size (4), real-time overload (6).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { VirtualTimeScheduler, VirtualAction, map } from "rxjs";
import "../policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { policyDef } from "../src/policy/model.ts";
import { frameLayout } from "../src/policy/frames.ts";
import { LearnedPolicy, loadPolicy, modelWeights } from "../src/policy/learned.ts";
import { readCheckpointMeta, writeCheckpoint, readWeights, type CheckpointMeta } from "../src/policy/checkpoint.ts";
import { fitNormalizer } from "../src/data/normalizer.ts";
import { controlLoop, type LoopEvent } from "../src/loop/loop.ts";
import { ticks } from "../src/loop/ticks.ts";
import { summarizeLoop } from "../src/loop/metrics.ts";
import { parseTopicMap, checkMapAgainstPolicy } from "../src/ros/topic-map.ts";
import { box } from "../src/env/types.ts";
import type { ChunkPolicy } from "../src/policy/types.ts";
import { ROOT, scd } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-robust-"));
const SHIPPED = path.join(ROOT, "policies/scd/pretrained/pusht");
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

test("1: on wasm, clipByValue and fused matMul + relu keep NaN (as cpu does)", () => {
  const x = tf.tensor([NaN, 2, -2]);
  assert.equal(Array.from(x.clipByValue(-1, 1).dataSync()), [NaN, 1, -1]);
  const y = tf.fused.matMul({ a: x.reshape([3, 1]), b: tf.ones([1, 2]), bias: tf.zeros([2]), activation: "relu" });
  assert.equal(Array.from(y.dataSync()), [NaN, NaN, 2, 2, 0, 0]);
  tf.dispose([x, y]);
});

test("1: a NaN inside a model (scd: clip at the end; mlp-bc: fused relu) is an error event plus the fallback, counted", () => {
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

test("1: a frame that is not finite after normalization never reaches the model; the loop falls back", () => {
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

test("2: a checkpoint whose parts disagree is refused at load, naming file, field and value; nothing leaks", () => {
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

test("2: scd eval on the issue's checkpoint (normalizer deleted) exits 2 with the reason (real CLI)", () => {
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

test("1 + 2: weights that overflow (finite, 1e30) make every chunk non-finite: eval exits 1 with the first reason (real CLI)", () => {
  const d = reachCheckpoint("overflow", 1e30);
  const r = scd(["eval", "--policy", d, "--env", "reach-obstacle-v1", "--episodes", "1", "--latency", "0"]);
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /scd: error: .*overflow on reach-obstacle-v1: every inference failed \(\d+ errors, \d+ fallback actions, no policy action\); the first: policy failed: mlp-bc sampled a chunk that is not finite/);
});

test("4: a topic map whose sizes differ from the policy's is refused at start-up", () => {
  const pol = { featureDims: { "observation.state": 2 }, actionDim: 2 };
  const mapWith = (obsFields: string[], actFields: string[]) =>
    parseTopicMap({ observations: [{ feature: "observation.state", topic: "/s", type: "geometry_msgs/Point", fields: obsFields }], action: { topic: "/c", type: "geometry_msgs/Twist", fields: actFields, low: actFields.map(() => -1), high: actFields.map(() => 1) } }, "m.json");
  assert.not.throws(() => checkMapAgainstPolicy(mapWith(["x", "y"], ["linear.x", "linear.y"]), pol, "m.json"));
  assert.throws(() => checkMapAgainstPolicy(mapWith(["x", "y", "z"], ["linear.x", "linear.y"]), pol, "m.json"), /topic map m\.json: observation\.state gives 3 values \(x, y, z\), the policy was trained on 2/);
  assert.throws(() => checkMapAgainstPolicy(mapWith(["x"], ["linear.x", "linear.y"]), pol, "m.json"), /observation\.state gives 1 values \(x\), the policy was trained on 2/);
  assert.throws(() => checkMapAgainstPolicy(mapWith(["x", "y"], ["linear.x", "linear.y", "linear.z"]), pol, "m.json"), /action gives 3 values \(linear\.x, linear\.y, linear\.z\), the policy produces 2/);
  assert.throws(() => checkMapAgainstPolicy(mapWith(["x", "y"], ["linear.x"]), pol, "m.json"), /action gives 1 values \(linear\.x\), the policy produces 2/);
});

test("4: scd run --test-server with a 3-value map and a policy trained on 2 exits 2 (real CLI)", () => {
  const d = reachCheckpoint("reach");
  const m = path.join(dir, "map3.json");
  fs.writeFileSync(m, JSON.stringify({ observations: [{ feature: "observation.state", topic: "/robot/state", type: "geometry_msgs/Point", fields: ["x", "y", "z"] }], action: { topic: "/robot/cmd", type: "geometry_msgs/Twist", fields: ["linear.x", "linear.y", "linear.z"], low: [-1, -1, -1], high: [1, 1, 1] } }));
  const r = scd(["run", "--policy", d, "--test-server", "--map", m, "--duration", "2"]);
  assert.is(r.code, 2, r.stdout);
  assert.match(r.stderr, new RegExp(`scd: error: topic map ${m}: observation\\.state gives 3 values \\(x, y, z\\), the policy was trained on 2`));
});

/**
 * 6: a policy that blocks the loop's thread for 60 ms per chunk at a 20 ms period. Simulated on a virtual clock
 * that jumps by 60 ms inside sampleChunk, as the wall clock does while the thread is blocked: timers due in the
 * meantime fire late, in order. A sensor publishes every 20 ms (it cannot while the thread is blocked).
 */
// SKIPPED: under VirtualTimeScheduler with a clock that runs ahead of virtual time, flush() does not return (seen
// twice, > 10 min); the loop's overload handling is unverified until this is fixed (issue 10, item 6 stays open).
test.skip("6: overload (60 ms synchronous inference, 20 ms period): lag stays bounded, overdue ticks skipped, no self-inflicted stale", () => {
  const sched = new VirtualTimeScheduler(VirtualAction, 4000);
  let blockedMs = 0;
  const clock = () => sched.now() + blockedMs;
  const slow: ChunkPolicy = {
    name: "slow", horizon: 16, actionDim: 1, reset() {}, observe() {},
    sampleChunk: () => ((blockedMs += 60), new Float32Array(16).fill(0.5)),
  };
  const sensor = ticks(20, sched, clock).pipe(map(() => ({ obs: { x: Float32Array.of(0) }, t: clock() })));
  const events: LoopEvent[] = [];
  controlLoop(slow, sensor, { observationSpace: { x: box([1], -1, 1) }, actionSpace: box([1], -1, 1), actuator: () => {} }, { periodMs: 20, strategy: { kind: "receding", execute: 8 }, fallback: "zero", mode: "realtime", clock }, sched).subscribe((e) => events.push(e));
  sched.flush();
  const acts = events.filter((e): e is Extract<LoopEvent, { type: "action" }> => e.type === "action");
  const s = summarizeLoop(events);
  assert.ok(clock() > 4000 && acts.length > 50, `${acts.length} actions in ${clock()} ms`);
  // the newest command is for the current tick: late by at most one blocking call plus one period (was 1.0 s and growing)
  const lag = acts.map((a) => a.t - a.scheduledT);
  assert.ok(Math.max(...lag) <= 60 + 20, `max lag ${Math.max(...lag)} ms`);
  assert.ok(lag.at(-1)! <= 60 + 20, `final lag ${lag.at(-1)} ms`);
  for (const a of acts) assert.ok(Math.floor((a.t - 0) / 20) - a.tick <= 3, `tick ${a.tick} sent at ${a.t}`);
  // overdue ticks are skipped and reported; the blocked tick's own action was late: a deadline miss, not a late send
  const reasons = events.filter((e) => e.type === "miss").map((e) => (e as { reason: string }).reason);
  assert.ok(reasons.filter((r) => /skipped/.test(r)).length >= 2 * s.inferenceMs.count - 2, `skipped: ${reasons.filter((r) => /skipped/.test(r)).length} for ${s.inferenceMs.count} inferences`);
  assert.ok(reasons.filter((r) => /deadline/.test(r)).length >= s.inferenceMs.count - 1, "each blocking inference is a deadline miss");
  // the loop's own blocking does not make observations stale (was ~40 % of ticks)
  assert.is(events.filter((e) => e.type === "error" && /stale/.test(e.reason)).length, 0);
  assert.ok(s.policyActions >= acts.length / 2, `${s.policyActions} policy actions of ${acts.length}`);
});

test.run();
