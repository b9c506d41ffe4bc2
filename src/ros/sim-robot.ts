/**
 * A simulated robot on the in-process bus: any Env behind the topics of a topic map, the mirror image of the
 * connector (action messages in, observation messages out, the reset service). For `scd run --test-server`
 * and tests; examples/ros/reach_map.json with reach-obstacle-v1 is the demo.
 */
import { ScdError } from "../errors.ts";
import type { TopicBus } from "./backends/bus.ts";
import type { Env, Obs } from "../envs/types.ts";
import type { TopicMap } from "./topic-map.ts";
import { decodeFields, encodeAction } from "./codec.ts";
import { fallbackAction } from "../loop/safety.ts";

export interface SimRobot {
  /** The env reported success (info.isSuccess) at some step since the last reset. */
  readonly success: boolean;
  /** Every action command received, with its arrival time (performance.now(), ms). */
  readonly received: { t: number; action: number[] }[];
  stop(): void;
}

/** Watchdog: a robot with no command for this long applies its safe action (zero velocity or hold). */
const WATCHDOG_MS = 500;

/**
 * Step `env` every `periodMs` with the latest command from `map.action.topic` and publish each observation
 * feature on its `map.observations` topic. Runs until `stop()`; the episode ends only by a reset service call.
 */
export function startSimRobot(bus: TopicBus, env: Env, map: TopicMap, opts: { periodMs: number; seed?: number }): SimRobot {
  for (const o of map.observations)
    if (!env.observationSpace[o.feature]) throw new ScdError(`topic map: feature "${o.feature}" is not an observation of ${env.id} (it has ${Object.keys(env.observationSpace).join(", ")})`);
  const seed = opts.seed ?? 0;
  const kind = env.metadata.fallback ?? "zero";
  let obs: Obs = env.reset({ seed }).obs;
  let cmd: Float32Array | null = null;
  let lastCmd = performance.now();
  const received: SimRobot["received"] = [];
  let success = false;
  bus.subscribe(map.action.topic, undefined, (m) => {
    const r = decodeFields(m, map.action.fields, map.maxArrayLength);
    if ("error" in r) return; // a real robot driver ignores a malformed command
    cmd = r.values;
    lastCmd = performance.now();
    received.push({ t: lastCmd, action: Array.from(cmd) });
  });
  if (map.resetService)
    bus.advertiseService(map.resetService.name, () => {
      obs = env.reset({ seed }).obs;
      success = false;
      return { success: true, message: "reset" };
    });
  const timer = setInterval(() => {
    const c = cmd && performance.now() - lastCmd < WATCHDOG_MS ? cmd : fallbackAction(kind, cmd, env.actionSpace);
    if (!success) {
      const r = env.step(c);
      obs = r.obs;
      success = !!r.info.isSuccess;
    }
    const now = Date.now(); // a robot stamps what it measures
    for (const o of map.observations) bus.publish(o.topic, o.type, encodeAction(o.type, o.fields, obs[o.feature], now));
  }, opts.periodMs);
  return { get success() { return success; }, received, stop: () => clearInterval(timer) };
}
