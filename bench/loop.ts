/**
 * The real-time loop on the wall clock: 100 Hz action output, 10 Hz replanning (async strategy, H = 20, a new
 * chunk requested when 10 actions remain), with a policy that takes a configurable time. Two policies: one whose
 * inference runs off the event loop (a Promise that resolves after `ms`, like a GPU or worker), and one that
 * computes synchronously on the loop's thread for `ms` (busy wait).
 */
import { asyncScheduler, BehaviorSubject } from "rxjs";
import { controlLoop, type LoopEvent } from "../src/loop/loop.ts";
import { summarizeLoop } from "../src/loop/metrics.ts";
import { box } from "../src/env/types.ts";
import type { ChunkPolicy } from "../src/policy/types.ts";
import type { BenchResult } from "./util.ts";

const H = 20;
function policy(ms: number, offThread: boolean): ChunkPolicy {
  const chunk = () => new Float32Array(H * 2).fill(0.1);
  return {
    name: offThread ? `async ${ms} ms` : `sync ${ms} ms`, horizon: H, actionDim: 2, reset() {}, observe() {},
    sampleChunk: () => {
      if (offThread) return new Promise<Float32Array>((res) => setTimeout(() => res(chunk()), ms));
      const t0 = performance.now();
      while (performance.now() - t0 < ms);
      return chunk();
    },
  };
}

async function run(p: ChunkPolicy, seconds: number) {
  const obs$ = new BehaviorSubject({ obs: { x: Float32Array.of(0, 0) }, t: performance.now() });
  const events: LoopEvent[] = [];
  const io = { observationSpace: { x: box([2], -1, 1) }, actionSpace: box([2], -1, 1), actuator: () => obs$.next({ obs: { x: Float32Array.of(0, 0) }, t: performance.now() }) };
  const sub = controlLoop(p, obs$, io, { periodMs: 10, deadlineMs: 5, strategy: { kind: "async", threshold: 10, merge: "latest" }, fallback: "zero", mode: "realtime", clock: () => performance.now() }, asyncScheduler).subscribe((e) => events.push(e));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  sub.unsubscribe();
  return summarizeLoop(events);
}

/**
 * Overload (issue 10): a policy computing 60 ms on the loop's thread at a 20 ms period, receding 8 of H, default
 * deadline and max observation age, observations from a 20 ms sensor. Lag must stay bounded: overdue ticks are
 * skipped (reported as misses), never replayed, and the loop's own blocking does not make observations stale.
 */
async function overload(seconds: number) {
  const p = policy(60, false);
  const obs$ = new BehaviorSubject({ obs: { x: Float32Array.of(0, 0) }, t: performance.now() });
  const sensor = setInterval(() => obs$.next({ obs: { x: Float32Array.of(0, 0) }, t: performance.now() }), 20);
  const events: LoopEvent[] = [];
  const io = { observationSpace: { x: box([2], -1, 1) }, actionSpace: box([2], -1, 1), actuator: () => {} };
  const sub = controlLoop(p, obs$, io, { periodMs: 20, strategy: { kind: "receding", execute: 8 }, fallback: "zero", mode: "realtime", clock: () => performance.now() }, asyncScheduler).subscribe((e) => events.push(e));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  sub.unsubscribe();
  clearInterval(sensor);
  const acts = events.filter((e): e is Extract<LoopEvent, { type: "action" }> => e.type === "action" && e.source !== "final");
  const lag = acts.map((a) => a.t - a.scheduledT);
  const reasons = events.flatMap((e) => (e.type === "miss" || e.type === "error" ? [e.reason] : []));
  return {
    actions: acts.length,
    finalLagMs: lag.at(-1) ?? NaN,
    maxLagMs: Math.max(...lag),
    skippedTicks: reasons.filter((r) => /skipped/.test(r)).length,
    deadlineMisses: reasons.filter((r) => /deadline/.test(r)).length,
    staleErrors: reasons.filter((r) => /stale/.test(r)).length,
    policyActions: acts.filter((a) => a.source === "policy").length,
  };
}

export async function benchLoop(): Promise<BenchResult> {
  const secs = Number(process.env.BENCH_LOOP_S ?? 10);
  const cases: [string, ChunkPolicy][] = [["off-thread 30 ms", policy(30, true)], ["off-thread 80 ms", policy(80, true)], ["on-thread 3 ms", policy(3, false)]];
  const rows: string[][] = [];
  const json: Record<string, unknown> = {};
  for (const [name, p] of cases) {
    const s = await run(p, secs);
    rows.push([name, `${s.ticks} ticks`, `missed ${(100 * s.missRate).toFixed(2)} % (${s.startupMisses} at start-up, ${(100 * s.steadyMissRate).toFixed(2)} % after)`, `jitter p50 ${s.jitterMs.p50.toFixed(2)} p99 ${s.jitterMs.p99.toFixed(2)} ms`, `inference p50 ${s.inferenceMs.p50.toFixed(1)} ms`]);
    json[name] = { ticks: s.ticks, missRate: s.missRate, startupMisses: s.startupMisses, steadyMissRate: s.steadyMissRate, jitterP50: s.jitterMs.p50, jitterP99: s.jitterMs.p99, inferenceP50: s.inferenceMs.p50 };
  }
  const o = await overload(Math.min(secs, 4));
  json["overload: on-thread 60 ms at 20 ms"] = o;
  rows.push(["overload: on-thread 60 ms, 20 ms period", `${o.actions} actions (${o.policyActions} from the policy)`, `lag final ${o.finalLagMs.toFixed(1)} ms, max ${o.maxLagMs.toFixed(1)} ms (bounded: ≤ inference + period)`, `${o.skippedTicks} overdue ticks skipped, ${o.deadlineMisses} deadline misses`, `${o.staleErrors} stale-observation fallbacks`]);
  const main = json["off-thread 30 ms"] as { missRate: number; steadyMissRate: number; startupMisses: number; jitterP99: number };
  return {
    name: "loop",
    title: `real-time loop, 100 Hz output, 10 Hz replanning (async, H = ${H}), ${secs} s per case`,
    rows,
    summary: `off-thread 30 ms policy: ${(100 * main.steadyMissRate).toFixed(2)} % missed ticks after start-up (${main.startupMisses} while the first chunk was computed; goal < 0.5 %), p99 jitter ${main.jitterP99.toFixed(2)} ms (goal < 2 ms)`,
    json,
  };
}
