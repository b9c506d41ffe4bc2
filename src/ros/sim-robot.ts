/**
 * A simulated robot on the in-process bus: any Env behind the topics of a topic map, the mirror image of the
 * connector (action messages in, observation messages out, the reset service). For `scd run --test-server`
 * and tests; examples/ros/reach_map.json with reach-obstacle-v1 is the demo.
 */
import { ScdError } from "../errors.ts";
import type { TopicBus } from "./backends/bus.ts";
import type { Env, Obs } from "../envs/types.ts";
import { featureLayout, type TopicMap } from "./topic-map.ts";
import { decodeFields, encodeAction } from "./codec.ts";
import { fallbackAction } from "../loop/safety.ts";

export interface SimRobot {
  /** The env reported success (info.isSuccess) at some step since the last reset. */
  readonly success: boolean;
  /** Every action command received, with its arrival time (performance.now(), ms). */
  readonly received: { t: number; action: number[] }[];
  /** Env steps taken, and the env's reward at the first and the latest of them (NaN before the first). */
  readonly steps: number;
  readonly firstReward: number;
  readonly lastReward: number;
  /** Stop stepping; with `closeEnv` the env is closed too (a MuJoCo env frees its model and data). */
  stop(opts?: { closeEnv?: boolean }): void;
}

/** Watchdog: a robot with no command for this long applies its safe action (zero velocity or hold). */
const WATCHDOG_MS = 500;

/**
 * Step `env` every `periodMs` with the latest command from `map.action.topic` and publish each observation
 * feature on its `map.observations` topic. Runs until `stop()`; the episode ends only by a reset service call.
 */
export function startSimRobot(bus: TopicBus, env: Env, map: TopicMap, opts: { periodMs: number; seed?: number }): SimRobot {
  map.observations.forEach((o, i) => {
    if (!env.observationSpace[o.feature]) throw new ScdError(`topic map: observations[${i}].feature is "${o.feature}", which ${env.id} does not have (its observations: ${Object.keys(env.observationSpace).join(", ")})`);
  });
  // each binding publishes its slice of the feature (all of it when the feature has one topic)
  const slices = map.observations.map(() => ({ from: 0, to: Infinity }));
  for (const e of featureLayout(map).values()) if (e.parts.length > 1) for (const p of e.parts) slices[p.index] = { from: p.offset, to: p.offset + p.dim! };
  const seed = opts.seed ?? 0;
  const kind = env.metadata.fallback ?? "zero", hold = env.metadata.holdFrom;
  let obs: Obs = env.reset({ seed }).obs;
  let cmd: Float32Array | null = null;
  let lastCmd = performance.now();
  const received: SimRobot["received"] = [];
  let success = false, steps = 0, firstReward = NaN, lastReward = NaN;
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
    // no command yet (or the watchdog fired): zero velocity, or hold the last target — or, before any, where it is
    const here = hold ? obs[hold.feature]?.slice(hold.offset, hold.offset + env.actionSpace.low.length) ?? null : null;
    const c = cmd && performance.now() - lastCmd < WATCHDOG_MS ? cmd : fallbackAction(kind, cmd, env.actionSpace, here);
    if (!success) {
      const r = env.step(c);
      obs = r.obs;
      success = !!r.info.isSuccess;
      if (!steps++) firstReward = r.reward;
      lastReward = r.reward;
    }
    const now = Date.now(); // a robot stamps what it measures
    map.observations.forEach((o, i) => bus.publish(o.topic, o.type, encodeAction(o.type, o.fields, obs[o.feature].subarray(slices[i].from, slices[i].to), now, o.set)));
  }, opts.periodMs);
  return {
    get success() { return success; }, received,
    get steps() { return steps; }, get firstReward() { return firstReward; }, get lastReward() { return lastReward; },
    stop: (o) => (clearInterval(timer), o?.closeEnv && env.close()),
  };
}
