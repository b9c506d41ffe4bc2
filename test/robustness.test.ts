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
import type { Strategy } from "../src/loop/queue.ts";
import { ticks } from "../src/loop/ticks.ts";
import { summarizeLoop } from "../src/loop/metrics.ts";
import { parseTopicMap, checkMapAgainstPolicy } from "../src/ros/topic-map.ts";
import { box } from "../src/envs/types.ts";
import type { ChunkPolicy } from "../src/policies/types.ts";
import type { TimedObs } from "../src/loop/safety.ts";
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
 * One thread's time, simulated for item 6: `block(ms)` is synchronous work on the thread (time passes, nothing
 * else runs), so timers due meanwhile fire late, in order of due time, and I/O that arrived meanwhile (`arrive`)
 * is handled after them, as Node runs its timers phase before its poll phase. (rxjs's VirtualTimeScheduler sets
 * its clock back to each action's due time, so work inside an action could never delay anything.)
 */
class ThreadTime extends VirtualTimeScheduler {
  private readonly io: { at: number; fn: () => void }[] = [];
  constructor(readonly endMs: number) {
    super(VirtualAction, endMs);
  }
  block(ms: number): void {
    this.frame += ms;
  }
  /** An external event (e.g. a sensor message) that reaches the thread at `at` ms, or when it is next free. */
  arrive(at: number, fn: () => void): void {
    this.io.push({ at, fn });
    this.io.sort((a, b) => a.at - b.at);
  }
  override flush(): void {
    for (;;) {
      const timer = this.actions[0], io = this.io[0];
      if (timer && timer.delay <= this.frame) {
        this.actions.shift();
        const err = timer.execute(timer.state, timer.delay);
        if (err) throw err;
      } else if (io && io.at <= this.frame) this.io.shift()!.fn();
      else {
        const next = Math.min(timer?.delay ?? Infinity, io?.at ?? Infinity);
        if (next > this.endMs) return;
        this.frame = next; // idle until the next event
      }
    }
  }
}

test("6 (simulation): blocking delays every timer due meanwhile; I/O that arrived meanwhile comes after them", () => {
  const s = new ThreadTime(100);
  const log: string[] = [];
  s.schedule(() => (log.push(`block@${s.now()}`), s.block(30)), 0);
  s.schedule(() => log.push(`timer10@${s.now()}`), 10);
  s.schedule(() => log.push(`timer20@${s.now()}`), 20);
  s.arrive(15, () => log.push(`io15@${s.now()}`));
  s.schedule(() => log.push(`timer40@${s.now()}`), 40);
  s.flush();
  assert.equal(log, ["block@0", "timer10@30", "timer20@30", "io15@30", "timer40@40"]);
});

/**
 * 6: a policy that blocks the loop's thread for 60 ms per chunk at a 20 ms period (receding 8 of H = 16, default
 * deadline and max observation age), and a sensor process publishing every 20 ms whose messages reach the loop
 * when its thread is free. Was: the newest command 1.0 s late after 4 s and growing, overdue ticks replayed,
 * ~40 % fallbacks for "stale observation" made stale by the loop's own inference.
 */
/** The loop on ThreadTime with a policy blocking the thread 60 ms per chunk (H = 16) at a 20 ms period for 4 s. */
function overloaded(strategy: Strategy) {
  const P = 20, BLOCK = 60, END = 4000;
  const sched = new ThreadTime(END);
  const slow: ChunkPolicy = {
    name: "slow", horizon: 16, actionDim: 1, reset() {}, observe() {},
    sampleChunk: () => (sched.block(BLOCK), new Float32Array(16).fill(0.5)),
  };
  const sensor = new BehaviorSubject<TimedObs>({ obs: { x: Float32Array.of(0) }, t: 0 });
  for (let t = P; t <= END; t += P) sched.arrive(t, () => sensor.next({ obs: { x: Float32Array.of(0) }, t: sched.now() }));
  const events: LoopEvent[] = [];
  const sub = controlLoop(slow, sensor, { observationSpace: { x: box([1], -1, 1) }, actionSpace: box([1], -1, 1), actuator: () => {} }, { periodMs: P, strategy, fallback: "zero", mode: "realtime", spinMs: 0 }, sched).subscribe((e) => events.push(e));
  sched.flush();
  sub.unsubscribe();
  const acts = events.filter((e): e is Extract<LoopEvent, { type: "action" }> => e.type === "action" && e.source !== "final");
  return { P, BLOCK, END, now: sched.now(), events, acts, infs: events.filter((e) => e.type === "inference"), s: summarizeLoop(events) };
}

test("6: overload (60 ms synchronous inference, 20 ms period): lag stays bounded, overdue ticks skipped, no self-inflicted stale", () => {
  const { P, BLOCK, END, now, events, acts, infs, s } = overloaded({ kind: "receding", execute: 8 });
  const missed = (re: RegExp) => new Set(events.flatMap((e) => (e.type === "miss" && re.test(e.reason) ? [e.tick] : [])));
  assert.ok(now >= END && infs.length >= 20, `${infs.length} inferences in ${now} ms`);
  // every command is for the tick current when it goes out: the lag is under one period, at the end as at the start
  const lag = acts.map((a) => a.t - a.scheduledT);
  for (const a of acts) assert.is(Math.floor(a.t / P), a.tick, `tick ${a.tick} sent at ${a.t} ms`);
  assert.ok(Math.max(...lag) < P && acts.at(-1)!.t >= END - BLOCK - P, `max lag ${Math.max(...lag)} ms, last command at ${acts.at(-1)!.t} ms`);
  // each blocking inference: its own tick a deadline miss (no late command), the ticks it blocked skipped
  const deadline = missed(/deadline/), skipped = missed(/skipped/), sent = new Set(acts.map((a) => a.tick));
  for (const i of infs) {
    assert.ok(deadline.has(i.tick) && !sent.has(i.tick), `tick ${i.tick}: its late chunk is a deadline miss, not a late command`);
    for (let j = i.tick + 1; j < i.tick + BLOCK / P && i.t < END; j++) assert.ok(skipped.has(j) && !sent.has(j), `tick ${j} (blocked by tick ${i.tick}'s inference) skipped`);
  }
  const last = Math.max(...sent, ...deadline, ...skipped);
  for (let k = 0; k <= last; k++) assert.ok(sent.has(k) !== (deadline.has(k) || skipped.has(k)), `tick ${k}: exactly one command or one miss`);
  assert.is(s.unsent, deadline.size + skipped.size);
  // the loop's own blocking made no observation stale: no error, no fallback; 5 of every 8 ticks are the policy's
  assert.is(s.errors, 0, s.firstError ?? "");
  assert.is(s.fallbacks, 0);
  assert.ok(s.policyActions >= 0.6 * (s.ticks + s.unsent), `${s.policyActions} policy actions of ${s.ticks + s.unsent} ticks`);
});

test("6: overload with a chunk every tick (ensemble) or 1 action per chunk: a command for the current tick after every inference", () => {
  for (const strategy of [{ kind: "ensemble", m: 0.1 }, { kind: "receding", execute: 1 }] as Strategy[]) {
    const { P, acts, infs, s } = overloaded(strategy);
    // the tick whose inference blocked past its period sends nothing; the tick current then sends at once, without
    // inferring again (which would block again, and no command would ever go out)
    assert.ok(acts.length >= infs.length - 1 && infs.length >= 40, `${strategy.kind}: ${acts.length} commands for ${infs.length} inferences`);
    for (const a of acts) assert.is(Math.floor(a.t / P), a.tick, `${strategy.kind}: tick ${a.tick} sent at ${a.t} ms`);
    assert.is(s.errors, 0, s.firstError ?? "");
    // ensemble: the current tick's action was queued by the chunk just computed; execute 1: no action of the policy
    // can ever be on time, so the robot gets the fallback (never a stale command)
    if (strategy.kind === "ensemble") assert.is(s.fallbacks, 0);
    else assert.is(s.policyActions, 0);
  }
});

test.run();
