/**
 * The control loop under real-time overload (synchronous inference longer than the control period), on a simulated
 * thread: lag stays bounded, overdue ticks are skipped, no self-inflicted stale observations, and a command for the
 * current tick goes out after every inference.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BehaviorSubject, VirtualTimeScheduler, VirtualAction, map } from "rxjs";
import { controlLoop, type LoopEvent } from "../src/loop/loop.ts";
import type { Strategy } from "../src/loop/queue.ts";
import { ticks } from "../src/loop/ticks.ts";
import { summarizeLoop } from "../src/loop/metrics.ts";
import { box } from "../src/envs/types.ts";
import type { ChunkPolicy } from "../src/policies/types.ts";
import type { TimedObs } from "../src/loop/safety.ts";

/**
 * One thread's time, simulated: `block(ms)` is synchronous work on the thread (time passes, nothing
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

test("simulation: blocking delays every timer due meanwhile; I/O that arrived meanwhile comes after them", () => {
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

test("overload (60 ms synchronous inference, 20 ms period): lag stays bounded, overdue ticks skipped, no self-inflicted stale", () => {
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

test("overload with a chunk every tick (ensemble) or 1 action per chunk: a command for the current tick after every inference", () => {
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
