/**
 * Marble tests (rxjs TestScheduler, 1 frame = 1 ms) of the control loop's timing: chunk execution strategies,
 * temporal ensembling, asynchronous switch-over, deadline misses, fallbacks on bad observations, teardown.
 * The scripted policy's chunk requested at tick k is [10k, 10k+1, …], so every action names its origin.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestScheduler } from "rxjs/testing";
import { Observable, VirtualTimeScheduler, VirtualAction, map, filter, take, type SchedulerLike } from "rxjs";
import { controlLoop, type LoopConfig, type LoopEvent } from "../src/loop/loop.ts";
import { ticks } from "../src/loop/ticks.ts";
import { ActionQueue } from "../src/loop/queue.ts";
import { box } from "../src/envs/types.ts";
import type { ChunkPolicy, Frame } from "../src/policies/types.ts";
import type { TimedObs } from "../src/loop/safety.ts";

class Scripted implements ChunkPolicy {
  readonly name = "scripted";
  readonly actionDim = 1;
  frames = 0;
  observed: Frame[] = [];
  constructor(readonly horizon: number) {}
  reset() {
    this.frames = 0;
  }
  observe(f: Frame) {
    this.frames++;
    this.observed.push(f);
  }
  sampleChunk(): Float32Array {
    const k = this.frames - 1;
    return Float32Array.from({ length: this.horizon }, (_, i) => 10 * k + i);
  }
}

const io = (actuated: [number, string][] = []) => ({
  observationSpace: { x: box([1], -1000, 1000) },
  actionSpace: box([1], -1000, 1000),
  actuator: (a: Float32Array, s: string) => void actuated.push([a[0], s]),
});

/** A fresh observation every period (emitted just before the loop's tick in the same frame). */
function obsEvery(period: number, s: SchedulerLike, value: (k: number) => number = () => 0): Observable<TimedObs> {
  return ticks(period, s).pipe(map((k) => ({ obs: { x: Float32Array.of(value(k)) }, t: s.now() })));
}

function actions(ev$: Observable<LoopEvent>): Observable<string> {
  return ev$.pipe(
    filter((e): e is Extract<LoopEvent, { type: "action" }> => e.type === "action"),
    map((e) => (e.source === "fallback" ? "F" : String(e.action[0]))),
  );
}

const base = (o: Partial<LoopConfig>): LoopConfig => ({ periodMs: 10, strategy: { kind: "receding", execute: 2 }, fallback: "zero", mode: "virtual", latencyMs: 0, ...o });

function marbles(fn: (h: { s: TestScheduler; expectObservable: (o: Observable<unknown>) => { toBe: (m: string, v?: Record<string, unknown>) => void } }) => void) {
  const s = new TestScheduler((a, b) => assert.equal(a, b));
  s.run(({ expectObservable }) => fn({ s, expectObservable }));
}

test("receding horizon: execute 2 of H = 4, then replan", () => {
  marbles(({ s, expectObservable }) => {
    const p = new Scripted(4);
    const ev$ = controlLoop(p, obsEvery(10, s), io(), base({}), s);
    expectObservable(actions(ev$).pipe(take(6))).toBe("a 9ms b 9ms c 9ms d 9ms e 9ms (f|)", { a: "0", b: "1", c: "20", d: "21", e: "40", f: "41" });
  });
});

test("temporal ensembling: a new chunk every tick, ACT weights exp(-m·i) with i = 0 the oldest", () => {
  const m = 0.5, w0 = 1, w1 = Math.exp(-m), w2 = Math.exp(-2 * m);
  marbles(({ s, expectObservable }) => {
    const p = new Scripted(3);
    const ev$ = controlLoop(p, obsEvery(10, s), io(), base({ strategy: { kind: "ensemble", m } }), s);
    // tick 1: chunk0[1] = 1 (oldest) and chunk1[0] = 10; tick 2: 2, 11, 20
    const t1 = (w0 * 1 + w1 * 10) / (w0 + w1), t2 = (w0 * 2 + w1 * 11 + w2 * 20) / (w0 + w1 + w2);
    expectObservable(actions(ev$).pipe(take(3))).toBe("a 9ms b 9ms (c|)", { a: "0", b: String(Math.fround(t1)), c: String(Math.fround(t2)) });
  });
});

test("asynchronous inference: the next chunk is computed while the queue runs, and takes over after the executed actions", () => {
  marbles(({ s, expectObservable }) => {
    const p = new Scripted(4);
    // latency 5 ms < deadline 8 ms: the first action goes out late (t = 5); refill when ≤ 1 action remains
    const ev$ = controlLoop(p, obsEvery(10, s), io(), base({ strategy: { kind: "async", threshold: 1, merge: "latest" }, latencyMs: 5, deadlineMs: 8 }), s);
    // chunk@3 arrives at 35 for ticks 3..6; tick 3 already ran from chunk@0, so tick 4 takes chunk@3[1] = 31
    expectObservable(actions(ev$).pipe(take(7))).toBe("5ms a 4ms b 9ms c 9ms d 9ms e 9ms f 9ms (g|)", { a: "0", b: "1", c: "2", d: "3", e: "31", f: "32", g: "33" });
  });
});

test("async merge 'average' averages the overlapping predictions of old and new chunks", () => {
  const q = new ActionQueue({ kind: "async", threshold: 2, merge: "average" }, 4, 1);
  q.insert(Float32Array.of(0, 1, 2, 3), 0, 0);
  assert.is(q.pop(0)![0], 0);
  q.insert(Float32Array.of(10, 11, 12, 13), 1, 1); // for ticks 1..4
  assert.is(q.pop(1)![0], (1 + 10) / 2);
  assert.is(q.pop(2)![0], (2 + 11) / 2);
  assert.is(q.pop(4)![0], 13);
  assert.is(q.pop(5), null);
});

test("deadline miss: a slow policy yields fallbacks on time, then its chunk resumes without replaying stale actions", () => {
  marbles(({ s, expectObservable }) => {
    const p = new Scripted(4);
    const ev$ = controlLoop(p, obsEvery(10, s), io(), base({ strategy: { kind: "receding", execute: 4 }, latencyMs: 23, deadlineMs: 5 }), s);
    // ticks 0, 1 miss (fallback at +5 ms); chunk@0 lands at 23: ticks 0, 1 are dropped, tick 2 goes out at 23
    expectObservable(actions(ev$).pipe(take(6))).toBe("5ms F 9ms F 7ms a 6ms b 14ms F 9ms (F|)", { F: "F", a: "2", b: "3" });
  });
});

test("stale, NaN and out-of-range observations trigger the fallback and an error event; the queue is dropped", () => {
  marbles(({ s, expectObservable }) => {
    const p = new Scripted(4);
    const vals = [0, 1, NaN, 3, 1e9, 5, 6];
    const ev$ = controlLoop(p, obsEvery(10, s, (k) => vals[k] ?? 0), io(), base({}), s);
    const errs$ = ev$.pipe(filter((e) => e.type === "error"), map((e) => (e as { reason: string }).reason.replace(/ .*/, "")), take(2));
    expectObservable(errs$).toBe("20ms a 19ms (b|)", { a: "observation", b: "observation" });
  });
  marbles(({ s, expectObservable }) => {
    const p = new Scripted(4);
    const vals = [0, 1, NaN, 3, 1e9, 5, 6];
    const ev$ = controlLoop(p, obsEvery(10, s, (k) => vals[k] ?? 0), io(), base({}), s);
    // tick 2 (NaN) and tick 4 (1e9) fall back and drop the plan, and never reach the policy (its 3rd and 4th
    // observed frames are ticks 3 and 5, whose chunks start 20 and 30)
    expectObservable(actions(ev$).pipe(take(6))).toBe("a 9ms b 9ms F 9ms c 9ms F 9ms (d|)", { a: "0", b: "1", F: "F", c: "20", d: "30" });
  });
  // stale: observations stop arriving
  marbles(({ s, expectObservable }) => {
    const p = new Scripted(8);
    const obs$ = obsEvery(10, s).pipe(take(2));
    const ev$ = controlLoop(p, obs$, io(), base({ strategy: { kind: "receding", execute: 8 }, maxObsAgeMs: 25 }), s);
    // the last observation is from t = 10: at t = 30 it is 20 ms old (fine), at t = 40 it is 30 ms > 25 ms
    expectObservable(actions(ev$).pipe(take(6))).toBe("a 9ms b 9ms c 9ms d 9ms F 9ms (F|)", { a: "0", b: "1", c: "2", d: "3", F: "F" });
  });
});

test("every tick emits exactly one action, and the policy observes each new frame once", () => {
  marbles(({ s }) => {
    const p = new Scripted(4);
    const got: LoopEvent[] = [];
    const sub = controlLoop(p, obsEvery(10, s), io(), base({ latencyMs: 3, deadlineMs: 5 }), s).subscribe((e) => got.push(e));
    s.schedule(() => sub.unsubscribe(), 995);
    s.flush();
    const acts = got.filter((e) => e.type === "action" && e.source !== "final") as Extract<LoopEvent, { type: "action" }>[];
    assert.is(acts.length, 100);
    assert.equal(acts.map((a) => a.tick), [...Array(100).keys()]);
    assert.is(p.frames, 100);
    assert.is(p.observed[0].prevAction, null);
    assert.is(p.observed[5].prevAction![0], acts[4].action[0]);
  });
});

test("teardown: unsubscribing sends one final safe action (hold last target)", () => {
  marbles(({ s }) => {
    const actuated: [number, string][] = [];
    const sub = controlLoop(new Scripted(4), obsEvery(10, s), io(actuated), base({ fallback: "hold" }), s).subscribe();
    s.schedule(() => sub.unsubscribe(), 25);
    s.flush();
    assert.equal(actuated, [[0, "policy"], [1, "policy"], [20, "policy"], [20, "final"]]);
  });
});

test("actions are clamped to the action space; a non-finite chunk is an error, not an action", () => {
  marbles(({ s }) => {
    const p = new Scripted(2);
    p.sampleChunk = () => Float32Array.of(5000, NaN);
    const got: LoopEvent[] = [];
    const sub = controlLoop(p, obsEvery(10, s), io(), base({ strategy: { kind: "receding", execute: 1 } }), s).subscribe((e) => got.push(e));
    s.schedule(() => sub.unsubscribe(), 15);
    s.flush();
    assert.ok(got.some((e) => e.type === "error" && /invalid chunk/.test(e.reason)));
    assert.ok(got.every((e) => e.type !== "action" || Number.isFinite(e.action[0])));
  });
  marbles(({ s }) => {
    const p = new Scripted(2);
    p.sampleChunk = () => Float32Array.of(5000, -5000);
    const got: number[] = [];
    const sub = controlLoop(p, obsEvery(10, s), io(), base({ strategy: { kind: "receding", execute: 2 } }), s).subscribe((e) => e.type === "action" && got.push(e.action[0]));
    s.schedule(() => sub.unsubscribe(), 15);
    s.flush();
    assert.equal(got.slice(0, 2), [1000, -1000]);
  });
});

test("ticks: spinning to the due time cannot hang on a clock that stands still while it spins (a virtual one)", () => {
  // realtime mode's default spin on a virtual clock used to busy-wait forever inside one action (issue 10, item 6)
  const s = new VirtualTimeScheduler(VirtualAction, 100);
  let reads = 0;
  const clock = () => {
    if (++reads > 5e7) throw new Error("the tick source spun on a clock that does not advance");
    return s.now() + 1; // ahead of the timers, as a clock that another thread's work moved
  };
  const got: number[] = [];
  ticks(20, s, clock, 2).subscribe((k) => got.push(k));
  s.flush();
  assert.equal(got, [0, 1, 2, 3, 4, 5]);
});

test.run();
