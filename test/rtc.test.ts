/**
 * Real-time chunking in the control loop (strategy "rtc"): marble tests of its timing (1 frame = 1 ms, period 10),
 * the frozen prefix, the guide each chunk is asked to continue, and the delay estimate. The scripted policy's chunk
 * requested at tick k is [10k, 10k+1, …], so every action names its origin.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestScheduler } from "rxjs/testing";
import { Observable, map, filter, take, type SchedulerLike } from "rxjs";
import { controlLoop, type LoopConfig, type LoopEvent } from "../src/loop/loop.ts";
import { ticks } from "../src/loop/ticks.ts";
import { ActionQueue, rtcGuide } from "../src/loop/queue.ts";
import { chunkJerk, jerkRatio } from "../src/loop/metrics.ts";
import { sampleChunksArray } from "../src/diffusion/sampler.ts";
import { Rng } from "../src/util/rng.ts";
import { initBackend } from "../src/backend/index.ts";
import { policyDef } from "../src/policies/registry.ts";
import { frameLayout } from "../src/policies/frames.ts";
import { LearnedPolicy } from "../src/policies/learned.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import "../src/policies/index.ts";
import { strategyFromFlags } from "../src/cli/commands/eval.ts";
import { box } from "../src/spaces.ts";
import type { ChunkPolicy, ChunkGuide } from "../src/policies/types.ts";
import type { TimedObs } from "../src/loop/safety.ts";

class Scripted implements ChunkPolicy {
  readonly name = "scripted";
  readonly actionDim = 1;
  frames = 0;
  guides: (ChunkGuide | undefined)[] = [];
  constructor(readonly horizon: number) {}
  reset() {
    this.frames = 0;
  }
  observe() {
    this.frames++;
  }
  sampleChunk(o: { guide?: ChunkGuide } = {}): Float32Array {
    this.guides.push(o.guide);
    const k = this.frames - 1;
    return Float32Array.from({ length: this.horizon }, (_, i) => 10 * k + i);
  }
}

const io = { observationSpace: { x: box([1], -1000, 1000) }, actionSpace: box([1], -1000, 1000), actuator: () => {} };
const obsEvery = (s: SchedulerLike): Observable<TimedObs> => ticks(10, s).pipe(map(() => ({ obs: { x: Float32Array.of(0) }, t: s.now() })));
const actions = (ev$: Observable<LoopEvent>) =>
  ev$.pipe(
    filter((e): e is Extract<LoopEvent, { type: "action" }> => e.type === "action"),
    map((e) => (e.source === "fallback" ? "F" : String(e.action[0]))),
  );
const cfg = (o: Partial<LoopConfig>): LoopConfig => ({ periodMs: 10, strategy: { kind: "receding", execute: 2 }, fallback: "zero", mode: "virtual", latencyMs: 0, ...o });

function run(strategy: LoopConfig["strategy"], n: number, o: Partial<LoopConfig> = {}): { out: string[]; policy: Scripted } {
  const s = new TestScheduler((a, b) => assert.equal(a, b));
  const policy = new Scripted(6);
  const out: string[] = [];
  s.run(({ flush }) => {
    actions(controlLoop(policy, obsEvery(s), io, cfg({ strategy, ...o }), s)).pipe(take(n)).subscribe((a) => out.push(a));
    flush();
  });
  return { out, policy };
}

test("rtc with zero delay and no soft mask executes exactly what receding does", () => {
  const rtc = run({ kind: "rtc", execute: 3, delay: 0, softMask: 0 }, 12).out;
  const receding = run({ kind: "receding", execute: 3 }, 12).out;
  assert.equal(rtc, receding);
  assert.equal(rtc, ["0", "1", "2", "30", "31", "32", "60", "61", "62", "90", "91", "92"]);
});

test("the frozen prefix runs from the queued plan even when the new chunk is there early", () => {
  // execute 3, delay 2: chunk@3 arrives at once, but ticks 3 and 4 keep chunk@0's actions 3, 4; tick 5 is chunk@3[2]
  const { out } = run({ kind: "rtc", execute: 3, delay: 2, softMask: 0 }, 9);
  assert.equal(out, ["0", "1", "2", "3", "4", "32", "33", "34", "62"]);
});

test("with a real delay the frozen actions are the ones executed while the chunk is computed; nothing waits", () => {
  const s = new TestScheduler((x, y) => assert.equal(x, y));
  const got: string[] = [];
  s.run(({ flush }) => {
    // latency 15 ms = 2 ticks (the chunk lands mid-period), delay estimate 2, deadline 8: the first tick misses
    // (nothing is queued yet); after that every action goes out at its tick, from the frozen plan or the new chunk
    const ev$ = controlLoop(new Scripted(6), obsEvery(s), io, cfg({ strategy: { kind: "rtc", execute: 3, delay: 2, softMask: 0 }, latencyMs: 15, deadlineMs: 8 }), s);
    ev$.pipe(filter((e): e is Extract<LoopEvent, { type: "action" }> => e.type === "action"), take(10)).subscribe((e) => got.push(`${e.tick}@${s.now()}:${e.source === "fallback" ? "F" : e.action[0]}`));
    flush();
  });
  // chunk@0 lands at 15 (tick 1 waits for it, 5 ms late); chunk@3 is requested at 30 and lands at 45: ticks 3, 4
  // run chunk@0's frozen 3, 4 on time, and tick 5 takes chunk@3[2] = 32
  assert.equal(got, ["0@8:F", "1@15:1", "2@20:2", "3@30:3", "4@40:4", "5@50:32", "6@60:33", "7@70:34", "8@80:62", "9@90:63"]);
});

test("each chunk after the first is asked to continue the queued plan: weight 1 on the frozen part, decaying after", () => {
  const { policy } = run({ kind: "rtc", execute: 2, delay: 1 }, 6);
  assert.is(policy.guides[0], undefined, "nothing is queued for the first chunk");
  const g = policy.guides[1]!;
  // chunk@2 overlaps chunk@0's ticks 2..5 (4 queued actions): prefix 2, 3, 4, 5, then nothing
  assert.equal([...g.prefix], [2, 3, 4, 5, 0, 0]);
  assert.is(g.weights[0], 1);
  for (let i = 1; i < 4; i++) assert.ok(g.weights[i] > 0 && g.weights[i] < g.weights[i - 1], `weights decay: ${[...g.weights]}`);
  assert.equal([...g.weights.slice(4)], [0, 0]);
  // Black et al. 2025, eq. 5 with H − s = 4 queued, d = 1: c_i = (4 − i) / 4
  const c = 3 / 4;
  assert.ok(Math.abs(g.weights[1] - (c * (Math.exp(c) - 1)) / (Math.E - 1)) < 1e-6);
});

test("a slow first chunk (warm-up): fallbacks until it lands, then rtc's delay 'auto' freezes what ran meanwhile and settles to the real delay", () => {
  const s = new TestScheduler((x, y) => assert.equal(x, y));
  const got: string[] = [];
  const policy = new Scripted(8);
  s.run(({ flush }) => {
    // the first chunk takes 45 ms (4.5 ticks), every later one 15 ms (1.5 ticks); execute 4, deadline 8
    const ev$ = controlLoop(policy, obsEvery(s), io, cfg({ strategy: { kind: "rtc", execute: 4, delay: "auto", softMask: 0 }, latencyMs: 15, firstLatencyMs: 45, deadlineMs: 8 }), s);
    ev$.pipe(filter((e): e is Extract<LoopEvent, { type: "action" }> => e.type === "action"), take(16)).subscribe((e) => got.push(`${e.tick}:${e.source === "fallback" ? "F" : e.action[0]}`));
    flush();
  });
  // ticks 0-3 fall back; tick 4 (due 40, deadline 48) waits for chunk@0, which lands at 45, and takes its action for
  // tick 4, not its first: the ticks that passed are not replayed
  assert.equal(got.slice(0, 6), ["0:F", "1:F", "2:F", "3:F", "4:4", "5:5"]);
  // the next chunk is requested with 3 of chunk@0's actions still queued: the delay estimate from the warm-up
  // (⌈4.5⌉ ticks, capped at execute 4) freezes all 3; once a 15 ms chunk is seen it settles to ⌈1.5⌉ = 2
  const guided = policy.guides.filter((g): g is ChunkGuide => !!g);
  assert.ok(guided.length >= 2, `${guided.length} guided chunks`);
  assert.equal([...guided[0].weights], [1, 1, 1, 0, 0, 0, 0, 0]);
  assert.equal([...guided[1].weights], [1, 1, 0, 0, 0, 0, 0, 0]);
  assert.not.ok(got.slice(6).some((a) => a.endsWith(":F")), `no fallback after the first chunk: ${got.join(" ")}`);
});

test("delay 'auto' follows the last inference's latency in ticks, capped at execute", () => {
  const q = new ActionQueue({ kind: "rtc", execute: 4, delay: "auto" }, 8, 1);
  assert.is(q.delay, 0);
  q.observeDelay(2.5);
  assert.is(q.delay, 3);
  q.observeDelay(9);
  assert.is(q.delay, 4);
  const fixed = new ActionQueue({ kind: "rtc", execute: 4, delay: 1 }, 8, 1);
  fixed.observeDelay(3);
  assert.is(fixed.delay, 1, "a fixed delay stays");
  assert.is(rtcGuide(fixed, 0, { kind: "rtc", execute: 4, delay: 1 }), null, "no guide with nothing queued");
  assert.throws(() => new ActionQueue({ kind: "rtc", execute: 2, delay: 3 }, 8, 1), /need 0 ≤ delay ≤ execute ≤ 8/);
});

test("each policy action names its chunk; boundary jerk compares changes across chunk switches with changes inside", () => {
  const s = new TestScheduler((x, y) => assert.equal(x, y));
  const events: LoopEvent[] = [];
  s.run(({ flush }) => {
    controlLoop(new Scripted(6), obsEvery(s), io, cfg({ strategy: { kind: "receding", execute: 3 } }), s).pipe(take(11)).subscribe((e) => events.push(e));
    flush();
  });
  const acts = events.filter((e): e is Extract<LoopEvent, { type: "action" }> => e.type === "action");
  assert.equal(acts.map((a) => a.chunk), [0, 0, 0, 3, 3, 3, 6, 6]);
  // actions 0 1 2 | 30 31 32 | 60 61: inside a chunk each step changes by 1, across a switch by 28
  const j = chunkJerk(events);
  assert.equal(j, { boundary_sum: 56, boundary_n: 2, within_sum: 5, within_n: 5 });
  assert.is(jerkRatio([j]), 28);
  assert.is(jerkRatio([{ boundary_sum: 0, boundary_n: 0, within_sum: 5, within_n: 5 }]), null);
  // a late chunk: policy 2 → fallback (holds 2) → policy 30 counts both steps as boundary steps; fallback pairs are left out
  const act = (tick: number, v: number, source: "policy" | "fallback", chunk?: number): LoopEvent => ({ type: "action", tick, t: 0, scheduledT: 0, tickT: 0, action: Float32Array.of(v), source, queueDepth: 0, ...(chunk === undefined ? {} : { chunk }) });
  assert.equal(chunkJerk([act(0, 1, "policy", 0), act(1, 2, "policy", 0), act(2, 2, "fallback"), act(3, 2, "fallback"), act(4, 30, "policy", 3)]), { boundary_sum: 28, boundary_n: 2, within_sum: 1, within_n: 1 });
});

test("guided sampling (flow and DDIM) ends on the target where the weight is 1, leans toward it in between, and weight 0 changes nothing", () => {
  const target = Float32Array.of(0.5, -0.25, 0.75, 0.1);
  const weights = Float32Array.of(1, 1, 0.5, 0);
  const toward = (x: Float32Array) => x.map((v) => v - 0.9); // a model that wants every value at -0.9 (flow: v = x − x̂)
  for (const objective of ["flow", "ddpm"] as const) {
    const den = objective === "flow" ? toward : (x: Float32Array) => x.map(() => 0); // DDIM with ε = 0 keeps x̂₀ = x/√ᾱ
    const free = sampleChunksArray(objective, 10, 4, new Rng(3), den);
    const guided = sampleChunksArray(objective, 10, 4, new Rng(3), den, { target, weights });
    for (const i of [0, 1]) assert.ok(Math.abs(guided[i] - target[i]) < 1e-6, `${objective}: index ${i} ends on the target (${guided[i]} vs ${target[i]})`);
    assert.ok(Math.abs(guided[2] - target[2]) < Math.abs(free[2] - target[2]), `${objective}: weight 0.5 leans toward the target`);
    assert.ok(Math.abs(guided[3] - free[3]) < 1e-6, `${objective}: weight 0 leaves the sample as it was`);
  }
});

test("a learned policy's chunk continues the plan it is given: the frozen actions come back as given (env units)", async () => {
  await initBackend("wasm");
  const layout = frameLayout([{ name: "observation.state", dim: 2 }], 2);
  const norms = { "observation.state": fitNormalizer(Float32Array.of(-1, -1, 1, 1), 2, "minmax"), action: fitNormalizer(Float32Array.of(0, 0, 512, 512), 2, "minmax") };
  const def = policyDef("scd");
  const p = new LearnedPolicy("scd", def.create(def.configSchema.parse({ dModel: 16, heads: 2, encLayers: 1, decDModel: 16, horizon: 4, history: 4 }), layout, 1), layout, norms);
  p.reset(0);
  p.observe({ obs: { "observation.state": Float32Array.of(0.1, 0.2) }, prevAction: null });
  const prefix = Float32Array.of(100, 200, 110, 210, 120, 220, 0, 0);
  const g = p.sampleChunk({ seed: 7, guide: { prefix, weights: Float32Array.of(1, 1, 0, 0) } });
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(g[i] - prefix[i]) < 1e-3, `frozen value ${i}: ${g[i]} vs ${prefix[i]}`);
  assert.throws(() => p.sampleChunk({ guide: { prefix: Float32Array.of(1), weights: Float32Array.of(1) } }), /guide needs 8 plan values and 4 weights, got 1 and 1/);
  p.dispose();
});

test("--strategy rtc: the delay defaults to --latency in ticks, capped at --execute; an explicit delay beyond it is refused", () => {
  assert.equal(strategyFromFlags({ strategy: "rtc", latency: "200" }, 16, 100), { kind: "rtc", execute: 8, delay: 2 });
  assert.equal(strategyFromFlags({ strategy: "rtc", latency: "1000" }, 16, 100), { kind: "rtc", execute: 8, delay: 8 });
  assert.equal(strategyFromFlags({ strategy: "rtc", latency: "measured" }, 16, 100), { kind: "rtc", execute: 8, delay: "auto" });
  assert.throws(() => strategyFromFlags({ strategy: "rtc", latency: "0", "rtc-delay": "10" }, 16, 100), /--rtc-delay must be auto or an integer in 0\.\.8 \(--execute\), got "10"/);
});

test.run();
