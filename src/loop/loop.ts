/**
 * The control loop: observations → policy (one observe() per new frame; a chunk is sampled when the queue asks)
 * → action queue → one action per tick → actuator. Every tick emits an action: a missed deadline, a stale or
 * invalid observation, or a failing policy yields the fallback. Except under real-time overload (the thread was
 * blocked past a tick's period, e.g. by a synchronous policy): overdue ticks are skipped, and a tick whose own
 * computation ran past its period is a deadline miss, each a "miss" event without an action; the tick then
 * current sends its command at once (no second inference), so every command is for the current tick and the lag
 * stays bounded (the actuator keeps its last command meanwhile, as it must while the thread is blocked). A tick
 * waiting for a chunk computed off the thread still gets its fallback, even late: a late safe command beats none,
 * since no other may follow soon. The clock is injected: a real-time clock for robots and demos, a virtual one
 * for evaluation (inference latency is then modelled in virtual time, measured or fixed), with the same code path.
 */
import { Observable, type SchedulerLike, type Subscription } from "rxjs";
import type { Box, Obs } from "../envs/types.ts";
import type { ChunkPolicy } from "../policies/types.ts";
import { ActionQueue, rtcGuide, type Strategy } from "./queue.ts";
import { type TimedObs, type Fallback, checkObservation, clampAction, fallbackAction, chunkProblem } from "./safety.ts";
import { ticks } from "./ticks.ts";
import { TickClock, BlockedTime } from "./deadlines.ts";
import { startInference } from "./inference.ts";

/** The control loop's settings: control period, chunk execution strategy, deadline, fallback, clock mode and latency. */
export interface LoopConfig {
  /** Control period (ms): one action per tick. */
  periodMs: number;
  /** How long after its tick an action may wait for a chunk in flight before the fallback goes out. */
  deadlineMs?: number;
  strategy: Strategy;
  fallback: Fallback;
  /** For "hold" before any action was sent: a safe target from the observation (e.g. the current position). */
  holdFrom?: (obs: Obs) => Float32Array | null;
  maxObsAgeMs?: number;
  steps?: number;
  seed?: number;
  /** virtual: chunks arrive after a latency in virtual time ("measured" = the call's wall time); realtime: as computed. */
  mode: "virtual" | "realtime";
  latencyMs?: "measured" | number;
  /** Virtual time: the first chunk's latency instead (a warm-up: compiling kernels, cold caches), in ms. */
  firstLatencyMs?: number;
  /** The loop's clock in ms (defaults to scheduler.now()); real time wants performance.now for sub-ms ticks. */
  clock?: () => number;
  /** Real time: wake this many ms before each tick and spin to it (Node timers fire 1–2 ms late). Default 2. */
  spinMs?: number;
}

export type { ActionSource, LoopEvent } from "../datasets/events.ts";
import type { ActionSource, LoopEvent } from "../datasets/events.ts";

/** The loop's connection to the world: the spaces, and the actuator that receives every action. */
export interface LoopIO {
  observationSpace: Record<string, Box>;
  actionSpace: Box;
  /** Receives every action, including the final safe action on teardown. */
  actuator: (action: Float32Array, source: ActionSource, tick: number) => void;
  /** Emissions (e.g. a dropped connection) force the fallback at the next tick, even if fresh data arrived since. */
  interrupt$?: Observable<string>;
}

/**
 * The control loop as an Observable: subscribe to run it on `scheduler` (virtual or real time), unsubscribe to
 * stop (one final safe action is sent). Every tick emits an action — the policy's, or the fallback on a missed
 * deadline, a stale or invalid observation or a failing policy.
 */
export function controlLoop(policy: ChunkPolicy, obs$: Observable<TimedObs>, io: LoopIO, cfg: LoopConfig, scheduler: SchedulerLike): Observable<LoopEvent> {
  return new Observable<LoopEvent>((sub) => {
    const clock = cfg.clock ?? (() => scheduler.now());
    const realtime = cfg.mode === "realtime";
    const deadline = cfg.deadlineMs ?? cfg.periodMs / 2;
    const maxAge = cfg.maxObsAgeMs ?? 2 * cfg.periodMs;
    const ticksOf = new TickClock(cfg.periodMs, deadline, realtime, clock);
    const blocked = new BlockedTime(realtime, clock);
    const queue = new ActionQueue(cfg.strategy, policy.horizon, policy.actionDim);
    const subs: Subscription[] = [];
    const tickTimes = new Map<number, number>(); // when each tick actually started (for jitter)
    let latest: TimedObs | null = null; // newest observation
    let lastFramed: TimedObs | null = null; // newest observation the policy has observed
    let last: Float32Array | null = null; // last action sent
    let inFlight = false;
    let openTick = 0; // smallest tick whose action has not been sent
    let lastTick = -1; // newest tick served
    let waiting: { tick: number; dueT: number; timer: Subscription } | null = null; // a tick waiting for a chunk in flight
    let closed = false;
    let interrupted: string | null = null;

    // ── actions out: the policy's, or the fallback with a "miss" event ──
    const send = (tick: number, dueT: number, a: Float32Array, source: ActionSource) => {
      const action = clampAction(a, io.actionSpace);
      if (source !== "final") {
        last = action;
        openTick = tick + 1;
      }
      const t = clock();
      const tickT = tickTimes.get(tick) ?? t;
      tickTimes.delete(tick);
      sub.next({ type: "action", tick, t, scheduledT: dueT, tickT, action, source, queueDepth: queue.depth(tick + 1), ...(source === "policy" ? { chunk: queue.lastChunk } : {}) });
      io.actuator(action, source, tick);
    };
    const fallback = () => fallbackAction(cfg.fallback, last, io.actionSpace, latest && cfg.holdFrom ? cfg.holdFrom(latest.obs) : null);
    const miss = (tick: number, dueT: number, reason: string) => {
      sub.next({ type: "miss", tick, t: clock(), reason });
      send(tick, dueT, fallback(), "fallback");
    };
    const refuse = (tick: number, dueT: number, reason: string) => {
      sub.next({ type: "error", tick, t: clock(), reason });
      queue.clear(); // never execute a plan made from observations we no longer trust
      send(tick, dueT, fallback(), "fallback");
    };
    const stopWaiting = () => {
      const w = waiting!;
      waiting = null;
      w.timer.unsubscribe();
      return w;
    };
    // ticks the source (or a catch-up below) jumped over were overdue: each is a miss, never replayed
    const skip = (from: number, to: number, t: number) => {
      for (let j = from; j < to; j++) sub.next({ type: "miss", tick: j, t, reason: "skipped (overdue: the loop was blocked); no command sent" });
    };

    // ── chunks in ──
    const onChunk = (chunk: Float32Array, requestTick: number) => {
      inFlight = false;
      if (closed) return;
      const bad = chunkProblem(chunk, policy.horizon, policy.actionDim);
      if (bad) return void sub.next({ type: "error", tick: requestTick, t: clock(), reason: bad });
      queue.insert(chunk, requestTick, openTick);
      const a = waiting ? queue.pop(waiting.tick) : null;
      if (!a) return;
      const w = stopWaiting();
      // the chunk came after the tick's deadline (the thread was blocked, so the timer could not fire)
      if (ticksOf.late(w.dueT)) miss(w.tick, w.dueT, `deadline (the chunk arrived ${(clock() - w.dueT).toFixed(1)} ms after its tick)`);
      else send(w.tick, w.dueT, a, "policy");
    };
    let inferences = 0;
    const infer = (tick: number) => {
      inFlight = true;
      const s = cfg.strategy;
      const first = inferences++ === 0 && cfg.firstLatencyMs !== undefined;
      const arrival = startInference(policy, tick, first ? { ...cfg, latencyMs: cfg.firstLatencyMs } : cfg, scheduler, blocked, {
        computed: (k, ms, chunk, latencyMs) => {
          queue.observeDelay(latencyMs / cfg.periodMs); // rtc with delay "auto": expect the next chunk as late
          sub.next({ type: "inference", tick: k, t: clock(), ms, chunk });
        },
        arrive: onChunk,
        fail: (k, reason) => {
          inFlight = false;
          sub.next({ type: "error", tick: k, t: clock(), reason });
        },
      }, s.kind === "rtc" ? rtcGuide(queue, tick, s) : null);
      if (arrival) subs.push(arrival);
    };

    // ── one tick: check the observation, feed a new frame, start inference if the queue asks, act ──
    const onTick = (tick: number) => {
      if (tick <= lastTick) return; // already served by a catch-up (see act)
      const now = clock();
      const dueT = ticksOf.due(tick);
      tickTimes.set(tick, now);
      if (lastTick >= 0) skip(lastTick + 1, tick, now);
      if (tick > openTick && lastTick >= 0) openTick = tick;
      lastTick = tick;
      if (waiting) {
        // the previous tick is still waiting (deadline ≥ period): it has missed
        const w = stopWaiting();
        miss(w.tick, w.dueT, "deadline");
      }
      // the age check does not count the time this loop itself blocked the thread
      const problem = interrupted ?? checkObservation(latest, io.observationSpace, latest ? now - blocked.since(latest.t, now) : now, maxAge);
      interrupted = null;
      if (problem) return refuse(tick, dueT, problem);
      if (latest !== lastFramed) {
        lastFramed = latest;
        try {
          blocked.run(() => policy.observe({ obs: latest!.obs, prevAction: last }));
        } catch (e) {
          // e.g. a frame that is not finite after normalization: never act on a plan that frame should have changed
          return refuse(tick, dueT, `policy.observe failed: ${(e as Error).message}`);
        }
      }
      if (!inFlight && queue.needsInference(tick)) infer(tick);
      if (!closed) act(tick, dueT, now);
    };

    /** The command of `tick` (which started at `now`), after its observation was checked and inference started. */
    const act = (tick: number, dueT: number, now: number): void => {
      const a = queue.pop(tick);
      if (ticksOf.passed(tick)) {
        // our own blocking call in this tick ran past its period: no command for it (it would be stale). The tick
        // now current gets its command at once, from the queue or the fallback, without another inference (that
        // would block again), so a command for the current tick goes out after every blocking call.
        const t = clock(), c = ticksOf.current(t);
        sub.next({ type: "miss", tick, t, reason: `deadline (its command was ready ${(t - dueT).toFixed(1)} ms after its tick, past its period); no command sent` });
        tickTimes.delete(tick);
        skip(tick + 1, c, t);
        lastTick = openTick = c;
        tickTimes.set(c, t);
        return act(c, ticksOf.due(c), t);
      }
      // a synchronous inference (or observe) in this tick ran past its deadline: its command would go out late
      // (a tick that merely fired late, with no blocking call of ours, still sends the policy's action)
      if (a && ticksOf.late(dueT) && now - dueT <= deadline) return miss(tick, dueT, `deadline (the action was ready ${(clock() - dueT).toFixed(1)} ms after its tick)`);
      if (a) return send(tick, dueT, a, "policy");
      if (!inFlight) return miss(tick, dueT, "empty queue");
      const timer = scheduler.schedule(() => {
        if (waiting && waiting.tick === tick) {
          waiting = null;
          miss(tick, dueT, "deadline");
        }
      }, deadline);
      waiting = { tick, dueT, timer };
    };

    subs.push(obs$.subscribe({ next: (o) => (latest = o), error: (e) => sub.error(e) }));
    if (io.interrupt$) subs.push(io.interrupt$.subscribe((reason) => (interrupted = reason)));
    policy.reset(cfg.seed);
    ticksOf.begin(); // the tick source schedules tick k for start + k·period from this instant
    subs.push(ticks(cfg.periodMs, scheduler, clock, realtime ? (cfg.spinMs ?? 2) : 0).subscribe(onTick));
    return () => {
      closed = true;
      for (const s of subs) s.unsubscribe();
      waiting?.timer.unsubscribe();
      // one final safe action, so no actuator is left with a stale command
      io.actuator(clampAction(fallback(), io.actionSpace), "final", openTick);
    };
  });
}
