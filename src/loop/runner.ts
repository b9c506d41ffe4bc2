/**
 * Runs one episode of an env under the control loop, on a virtual clock (evaluation: as fast as possible) or in
 * real time, and records what was executed. Several episodes can share one virtual scheduler (lockstep slots).
 */
import { BehaviorSubject, VirtualTimeScheduler, VirtualAction, asyncScheduler, type SchedulerLike, type Subscription } from "rxjs";
import type { Env, RgbFrame, Obs } from "../envs/types.ts";
import type { ChunkPolicy } from "../policies/types.ts";
import type { Episode } from "../datasets/episodes.ts";
import { controlLoop, type LoopConfig, type LoopEvent } from "./loop.ts";
import type { TimedObs } from "./safety.ts";

/** One episode under the control loop: seed, length, rewards, success, the loop's events, frames (when rendered) and the executed data. */
export interface EpisodeResult {
  seed: number;
  steps: number;
  sumReward: number;
  maxReward: number;
  success: boolean;
  events: LoopEvent[];
  frames: RgbFrame[];
  /** Executed observations, actions and timing (a dataset episode). */
  episode: Episode;
  finalInfo: Record<string, unknown>;
}

/** A running episode: its result when it ends, and a way to stop it early. */
export interface EpisodeRun {
  result: Promise<EpisodeResult>;
  /** Stop the loop (the final safe action is sent); the result settles with the steps done. */
  stop(): void;
}

/**
 * The simulator fault an env reported in a step's info (`info.simError`: e.g. MuJoCo went unstable, the env restored
 * its last good state and truncated the episode) as an error event's reason, or null.
 */
export function simFault(info: Record<string, unknown>): string | null {
  return typeof info.simError === "string" && info.simError ? `simulator: ${info.simError}` : null;
}

/** Start an episode on `scheduler`; the returned promise settles when the env terminates or truncates. */
export function startEpisode(env: Env, policy: ChunkPolicy, seed: number, cfg: Omit<LoopConfig, "seed">, scheduler: SchedulerLike, opts: { render?: boolean; record?: boolean; maxSteps?: number } = {}): EpisodeRun {
  const clock = cfg.clock ?? (() => scheduler.now());
  const { obs, info } = env.reset({ seed });
  const t0 = clock();
  const obs$ = new BehaviorSubject<TimedObs>({ obs, t: t0 });
  const keys = Object.keys(env.observationSpace);
  const rec: Record<string, number[]> = Object.fromEntries([...keys, "action", "timestamp", "action_is_fallback"].map((k) => [k, []]));
  const events: LoopEvent[] = [];
  const frames: RgbFrame[] = opts.render ? [env.render()] : [];
  let current: Obs = obs;
  let steps = 0, sumReward = 0, maxReward = 0, success = false, done = false;
  let finalInfo: Record<string, unknown> = info;
  const limit = opts.maxSteps ?? env.metadata.maxEpisodeSteps ?? Infinity;
  let sub: Subscription | null = null;
  let resolve!: (r: EpisodeResult) => void;
  let reject!: (e: unknown) => void;
  const result = new Promise<EpisodeResult>((res, rej) => ((resolve = res), (reject = rej)));
  const finish = () => {
    if (done) return;
    done = true;
    sub?.unsubscribe();
    const episode: Episode = Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, Float32Array.from(v)]));
    resolve({ seed, steps, sumReward, maxReward, success, events, frames, episode, finalInfo });
  };
  const actuator = (a: Float32Array, source: string) => {
    if (done || source === "final") return; // an env episode that ended takes no more actions
    if (opts.record !== false) {
      for (const k of keys) rec[k].push(...current[k]);
      rec.action.push(...a);
      rec.timestamp.push(clock());
      rec.action_is_fallback.push(source === "fallback" ? 1 : 0);
    }
    const r = env.step(a);
    steps++;
    sumReward += r.reward;
    maxReward = Math.max(maxReward, r.reward);
    finalInfo = r.info;
    // a simulator fault is an error in the loop's record (the env already fell back to its last good state and
    // truncated the episode, so the episode ends here)
    const fault = simFault(r.info);
    if (fault) events.push({ type: "error", tick: Math.round((clock() - t0) / cfg.periodMs), t: clock(), reason: fault });
    if (r.terminated) success = true;
    if (opts.render) frames.push(env.render());
    current = r.obs;
    obs$.next({ obs: r.obs, t: clock() });
    if (r.terminated || r.truncated || steps >= limit) finish();
  };
  sub = controlLoop(policy, obs$, { observationSpace: env.observationSpace, actionSpace: env.actionSpace, actuator }, { ...cfg, seed }, scheduler).subscribe({
    next: (e) => events.push(e),
    error: (e) => {
      done = true;
      reject(e);
    },
  });
  if (done) sub.unsubscribe();
  return { result, stop: finish };
}

/** A virtual-time scheduler for evaluation; maxMs bounds a run that would never end. */
export function virtualScheduler(maxMs = Number.POSITIVE_INFINITY): VirtualTimeScheduler {
  return new VirtualTimeScheduler(VirtualAction, maxMs);
}

/** One episode on its own virtual clock. */
export async function runEpisodeVirtual(env: Env, policy: ChunkPolicy, seed: number, cfg: Omit<LoopConfig, "seed" | "mode">, opts: { render?: boolean; record?: boolean } = {}): Promise<EpisodeResult> {
  const maxSteps = env.metadata.maxEpisodeSteps ?? 10_000;
  const sched = virtualScheduler((maxSteps + 10) * cfg.periodMs);
  const run = startEpisode(env, policy, seed, { ...cfg, mode: "virtual" }, sched, { ...opts, maxSteps });
  sched.flush();
  run.stop(); // no-op if the episode ended; ends it if the virtual time budget ran out
  return run.result;
}

/** One episode in real time (wall clock). */
export function runEpisodeRealtime(env: Env, policy: ChunkPolicy, seed: number, cfg: Omit<LoopConfig, "seed" | "mode" | "clock">, opts: { render?: boolean; record?: boolean } = {}): EpisodeRun {
  return startEpisode(env, policy, seed, { ...cfg, mode: "realtime", clock: () => performance.now() }, asyncScheduler, opts);
}
