/**
 * The control loop's pieces, each on its own: tick and deadline tracking (TickClock), blocked-thread accounting
 * (BlockedTime), inference scheduling (startInference), chunk checks and fallbacks. test/loop.test.ts tests them
 * together through controlLoop's marble tests.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { VirtualTimeScheduler, VirtualAction } from "rxjs";
import { TickClock, BlockedTime } from "../src/loop/deadlines.ts";
import { startInference, chunkSeed, type InferenceHandlers } from "../src/loop/inference.ts";
import { chunkProblem, fallbackAction } from "../src/loop/safety.ts";
import { box } from "../src/spaces.ts";
import type { ChunkPolicy } from "../src/policies/types.ts";

test("TickClock: due times and the current tick from the start; deadlines only in real time", () => {
  let now = 1000;
  const rt = new TickClock(100, 50, true, () => now);
  rt.begin();
  assert.is(rt.due(3), 1300);
  now = 1349;
  assert.is(rt.current(), 3);
  assert.is(rt.late(1300), false); // 49 ms after its tick, deadline 50
  now = 1351;
  assert.is(rt.late(1300), true);
  assert.is(rt.passed(3), false);
  now = 1400;
  assert.is(rt.passed(3), true); // tick 4 is due
  const virtual = new TickClock(100, 50, false, () => now);
  virtual.begin();
  now = 99_999;
  assert.is(virtual.late(1400), false);
  assert.is(virtual.passed(0), false);
});

test("BlockedTime: counts only the blocked part of [t, now], keeps the last 64 spans, records nothing in virtual time", () => {
  let now = 0;
  const b = new BlockedTime(true, () => now);
  const block = (from: number, ms: number) => {
    now = from;
    b.run(() => (now += ms));
  };
  block(10, 5); // [10, 15]
  block(30, 20); // [30, 50]
  assert.is(b.since(0, 100), 25);
  assert.is(b.since(12, 40), 3 + 10); // [12,15] and [30,40]
  assert.is(b.since(60, 100), 0);
  assert.throws(() => b.run(() => { throw new Error("boom"); }), /boom/); // a throwing call is still timed, and rethrown
  for (let i = 0; i < 70; i++) block(1000 + 10 * i, 1);
  assert.is(b.since(0, 10_000), BlockedTime.KEEP); // the first spans were dropped
  const v = new BlockedTime(false, () => now);
  v.run(() => (now += 500));
  assert.is(v.since(0, 1e9), 0);
});

class Fixed implements ChunkPolicy {
  readonly name = "fixed";
  readonly horizon = 2;
  readonly actionDim = 1;
  seeds: number[] = [];
  constructor(private readonly result: () => Float32Array | Promise<Float32Array>) {}
  reset() {}
  observe() {}
  sampleChunk(o: { seed?: number } = {}) {
    this.seeds.push(o.seed!);
    return this.result();
  }
}

function recorder() {
  const log: string[] = [];
  const on: InferenceHandlers = {
    computed: (tick) => void log.push(`computed ${tick}`),
    arrive: (c, tick) => void log.push(`arrive ${tick} [${[...c]}]`),
    fail: (tick, reason) => void log.push(`fail ${tick}: ${reason}`),
  };
  return { log, on };
}

test("startInference, virtual time: the chunk arrives after the fixed latency on the scheduler, at once for 0", () => {
  const s = new VirtualTimeScheduler(VirtualAction, Infinity);
  const p = new Fixed(() => Float32Array.of(1, 2));
  const r = recorder();
  const arrival = startInference(p, 7, { mode: "virtual", latencyMs: 30, seed: 2 }, s, new BlockedTime(false, () => s.now()), r.on);
  assert.ok(arrival, "a scheduled arrival is returned so the loop can cancel it");
  assert.equal(r.log, ["computed 7"]);
  s.flush();
  assert.equal(r.log, ["computed 7", "arrive 7 [1,2]"]);
  assert.is(s.now(), 30);
  assert.equal(p.seeds, [chunkSeed(2, 7)]);
  const r0 = recorder();
  assert.is(startInference(p, 8, { mode: "virtual", latencyMs: 0 }, s, new BlockedTime(false, () => s.now()), r0.on), null);
  assert.equal(r0.log, ["computed 8", "arrive 8 [1,2]"]);
  assert.not.equal(chunkSeed(2, 7), chunkSeed(2, 8));
  assert.not.equal(chunkSeed(2, 7), chunkSeed(3, 7));
});

test("startInference: a throwing policy and a Promise under the virtual clock fail with a reason; real time awaits the Promise", async () => {
  const s = new VirtualTimeScheduler(VirtualAction, Infinity);
  const thrower = recorder();
  startInference(new Fixed(() => { throw new Error("no weights"); }), 1, { mode: "virtual" }, s, new BlockedTime(false, () => 0), thrower.on);
  assert.equal(thrower.log, ["fail 1: policy failed: no weights"]);
  const promised = recorder();
  startInference(new Fixed(async () => Float32Array.of(3, 4)), 2, { mode: "virtual" }, s, new BlockedTime(false, () => 0), promised.on);
  assert.match(promised.log[0], /^fail 2: policy failed: policy "fixed" returned a Promise; the virtual clock needs a synchronous sampleChunk/);
  const rt = recorder();
  startInference(new Fixed(async () => Float32Array.of(5, 6)), 3, { mode: "realtime" }, s, new BlockedTime(true, () => performance.now()), rt.on);
  assert.equal(rt.log, []);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(rt.log, ["computed 3", "arrive 3 [5,6]"]);
  const rejected = recorder();
  startInference(new Fixed(() => Promise.reject(new Error("device lost"))), 4, { mode: "realtime" }, s, new BlockedTime(true, () => 0), rejected.on);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(rejected.log, ["fail 4: policy failed: device lost"]);
});

test("chunkProblem refuses a wrong length or a non-finite value; fallbacks hold, zero or centre", () => {
  assert.is(chunkProblem(Float32Array.of(1, 2, 3, 4), 2, 2), null);
  assert.match(chunkProblem(Float32Array.of(1, 2, 3), 2, 2)!, /invalid chunk \(3 values/);
  assert.match(chunkProblem(Float32Array.of(1, NaN, 3, 4), 2, 2)!, /non-finite/);
  const space = box([2], [-1, 2], [1, 4]);
  assert.equal([...fallbackAction("zero", Float32Array.of(0.5, 3), space)], [0, 2]); // 0 clamped into [2, 4]
  assert.equal([...fallbackAction("hold", Float32Array.of(0.5, 3), space)], [0.5, 3]);
  assert.equal([...fallbackAction("hold", null, space, Float32Array.of(9, 3.5))], [1, 3.5]); // observed position, clamped
  assert.equal([...fallbackAction("hold", null, space)], [0, 3]); // the middle of the box
});

test.run();
