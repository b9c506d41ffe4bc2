/**
 * The control loop against a robot behind rosbridge: real-time clock, observations from the connector, actions
 * published through it. stop() ends the loop, which publishes one final safe action (also delivered to onEvent
 * listeners as an action event with source "final", so logs end with it).
 */
import { asyncScheduler, filter, map, skip, type Subscription } from "rxjs";
import type { ChunkPolicy } from "../policies/types.ts";
import { controlLoop, type LoopConfig, type LoopEvent } from "../loop/loop.ts";
import type { RosConnector } from "./connector.ts";

/** A control loop running against rosbridge: its recent events, a stop, and a listener for each event. */
export interface RosRun {
  /** The loop's events, the latest `keepEvents` (default 100,000). */
  events: LoopEvent[];
  /** End the loop; one final safe action is published. */
  stop(): void;
  /** Call `cb` with every event from now on. */
  onEvent(cb: (e: LoopEvent) => void): void;
}

/** Run the control loop in real time against a robot behind rosbridge: observations from the connector, actions published through it. */
export function runOverRos(policy: ChunkPolicy, conn: RosConnector, cfg: Omit<LoopConfig, "mode" | "clock">, opts: { keepEvents?: number } = {}): RosRun {
  const events: LoopEvent[] = [];
  const listeners: ((e: LoopEvent) => void)[] = [];
  const keep = opts.keepEvents ?? 100_000;
  let stopping = false, last: Extract<LoopEvent, { type: "action" }> | null = null;
  const io = {
    observationSpace: conn.observationSpace,
    actionSpace: conn.actionSpace,
    actuator: (a: Float32Array) => {
      conn.publish(a);
      // the loop's teardown sends the final safe action after its events stop: log it as one more action event
      if (stopping && last) {
        const t = performance.now();
        const e: LoopEvent = { ...last, tick: last.tick + 1, t, scheduledT: t, tickT: t, action: Float32Array.from(a), source: "final" };
        events.push(e);
        for (const l of listeners) l(e);
      }
    },
    interrupt$: conn.connected$.pipe(skip(1), filter((c) => !c), map(() => `connection to ${conn.url} lost`)),
  };
  const sub: Subscription = controlLoop(policy, conn.obs$, io, { maxObsAgeMs: conn.map.maxAgeMs, ...cfg, mode: "realtime", clock: () => performance.now() }, asyncScheduler).subscribe((e) => {
    events.push(e);
    if (e.type === "action") last = e;
    if (events.length > keep) events.splice(0, events.length - keep);
    for (const l of listeners) l(e);
  });
  return { events, stop: () => ((stopping = true), sub.unsubscribe()), onEvent: (cb) => listeners.push(cb) };
}
