/**
 * Inference scheduling of the control loop: one `sampleChunk` call, and when its chunk reaches the loop. Real time:
 * as soon as it is computed (synchronously, or when the policy's Promise resolves). Virtual time: after the
 * configured latency in virtual time ("measured" = the call's own wall time, or a fixed number of ms), so an
 * evaluation charges inference to the simulated clock with the same code path as a robot.
 */
import type { SchedulerLike, Subscription } from "rxjs";
import type { ChunkPolicy, ChunkGuide } from "../policies/types.ts";
import type { BlockedTime } from "./deadlines.ts";

/** How one inference runs: denoising steps, the run's seed, clock mode and (virtual time) latency. */
export interface InferenceConfig {
  steps?: number;
  seed?: number;
  mode: "virtual" | "realtime";
  latencyMs?: "measured" | number;
}

/** What the loop does with an inference's outcome. */
export interface InferenceHandlers {
  /** The call finished after `ms` of wall time (the "inference" event); its chunk arrives `latencyMs` after the request. */
  computed(tick: number, ms: number, chunk: Float32Array, latencyMs: number): void;
  /** The chunk reaches the loop (at once, or after the modelled latency). */
  arrive(chunk: Float32Array, tick: number): void;
  /** The call threw or its Promise rejected. */
  fail(tick: number, reason: string): void;
}

/** The noise seed of the chunk requested at `tick`: distinct per tick, reproducible per run seed. */
export const chunkSeed = (runSeed: number | undefined, tick: number): number => (runSeed ?? 0) * 1_000_003 + tick;

/**
 * Start the inference requested at `tick`. Returns the subscription of a scheduled (virtual-latency) arrival, if
 * any, so the loop can cancel it on teardown.
 */
export function startInference(policy: ChunkPolicy, tick: number, cfg: InferenceConfig, scheduler: SchedulerLike, blocked: BlockedTime, on: InferenceHandlers, guide?: ChunkGuide | null): Subscription | null {
  const t0 = performance.now();
  let arrival: Subscription | null = null;
  const done = (chunk: Float32Array) => {
    const ms = performance.now() - t0;
    const lat = cfg.mode === "realtime" || cfg.latencyMs === "measured" || cfg.latencyMs === undefined ? ms : cfg.latencyMs;
    on.computed(tick, ms, chunk, lat);
    if (cfg.mode === "realtime") return on.arrive(chunk, tick);
    if (lat <= 0) on.arrive(chunk, tick);
    else arrival = scheduler.schedule(() => on.arrive(chunk, tick), lat);
  };
  const fail = (e: unknown) => on.fail(tick, `policy failed: ${(e as Error)?.message ?? e}`);
  try {
    const r = blocked.run(() => policy.sampleChunk({ steps: cfg.steps, seed: chunkSeed(cfg.seed, tick), ...(guide ? { guide } : {}) }));
    if (r instanceof Promise) {
      if (cfg.mode === "virtual") throw new Error(`policy "${policy.name}" returned a Promise; the virtual clock needs a synchronous sampleChunk`);
      r.then(done, fail);
    } else done(r);
  } catch (e) {
    fail(e);
  }
  return arrival;
}
