/**
 * The control loop against a robot behind rosbridge: real-time clock, observations from the connector, actions
 * published through it. stop() ends the loop, which publishes one final safe action.
 */
import { asyncScheduler, filter, map, skip, type Subscription } from "rxjs";
import type { ChunkPolicy } from "../policy/types.ts";
import { controlLoop, type LoopConfig, type LoopEvent } from "../loop/loop.ts";
import type { RosConnector } from "./connector.ts";

export interface RosRun {
  events: LoopEvent[];
  stop(): void;
  onEvent(cb: (e: LoopEvent) => void): void;
}

export function runOverRos(policy: ChunkPolicy, conn: RosConnector, cfg: Omit<LoopConfig, "mode" | "clock">, opts: { keepEvents?: number } = {}): RosRun {
  const events: LoopEvent[] = [];
  const listeners: ((e: LoopEvent) => void)[] = [];
  const keep = opts.keepEvents ?? 100_000;
  const io = {
    observationSpace: conn.observationSpace,
    actionSpace: conn.actionSpace,
    actuator: (a: Float32Array) => void conn.publish(a),
    interrupt$: conn.connected$.pipe(skip(1), filter((c) => !c), map(() => `connection to ${conn.url} lost`)),
  };
  const sub: Subscription = controlLoop(policy, conn.obs$, io, { maxObsAgeMs: conn.map.maxAgeMs, ...cfg, mode: "realtime", clock: () => performance.now() }, asyncScheduler).subscribe((e) => {
    events.push(e);
    if (events.length > keep) events.splice(0, events.length - keep);
    for (const l of listeners) l(e);
  });
  return { events, stop: () => sub.unsubscribe(), onEvent: (cb) => listeners.push(cb) };
}
