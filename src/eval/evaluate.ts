/**
 * Evaluation through the control loop on a virtual clock: Diffusion Policy's protocol with LeRobot's names.
 * `avg_max_reward` is Diffusion Policy's "mean score". Episodes run `parallel` at a time in lockstep on one
 * virtual scheduler (each slot its own env and policy instance).
 */
import * as path from "node:path";
import * as fs from "node:fs";
import type { Env } from "../envs/types.ts";
import type { ChunkPolicy } from "../policies/types.ts";
import { startEpisode, virtualScheduler, type EpisodeResult } from "../loop/runner.ts";
import type { LoopConfig } from "../loop/loop.ts";
import { summarizeLoop, chunkJerk, jerkRatio, type LoopSummary, type ChunkJerk } from "../loop/metrics.ts";
import { writeGif } from "../util/image.ts";
import { plotScores } from "./plot.ts";
import { DatasetWriter } from "../datasets/native.ts";
import { compactLoopEvents, type CompactLoopEvents } from "./loop-events.ts";
import { recorderFor, type LogRecorder } from "../datasets/formats.ts";
import { logEpisode } from "./record-log.ts";

/** What {@link evaluate} runs: how to make the env and the policy, which seeds, the loop settings and the outputs. */
export interface EvalOptions {
  /** Make one env (called once per parallel slot). */
  makeEnv: () => Promise<Env>;
  /** Make one policy instance (called once per parallel slot). */
  makePolicy: () => Promise<ChunkPolicy>;
  episodes: number;
  seedStart: number;
  /** explicit seeds, one per episode (e.g. re-running chosen episodes with GIFs); overrides seedStart + i */
  seeds?: number[];
  loop: Omit<LoopConfig, "seed" | "mode" | "periodMs" | "fallback"> & Partial<Pick<LoopConfig, "fallback">>;
  parallel?: number;
  gifDir?: string;
  gifEpisodes?: number;
  plotPath?: string;
  recordPath?: string;
  /** global index of the first episode (a shard's offset): names episode_ix and GIF files */
  episodeIxStart?: number;
  /** keep the raw loop events (compact) in the report, so shards merge into the exact single-run summary */
  keepLoopEvents?: boolean;
  /** Called after each episode with the number done so far and its result (progress). */
  onEpisode?: (done: number, r: EpisodeResult) => void;
}

/**
 * An evaluation's report, with LeRobot's names: `aggregated.avg_max_reward` is Diffusion Policy's "mean score",
 * `pc_success` the success rate in percent; per-episode rows, the loop's timing summary and the files written.
 */
export interface EvalReport {
  /** `boundary_jerk`: mean action change across chunk boundaries over the mean within chunks (null: no boundary seen). */
  aggregated: { avg_max_reward: number; avg_sum_reward: number; pc_success: number; eval_s: number; eval_ep_s: number; n_episodes: number; boundary_jerk?: number | null };
  per_episode: { episode_ix: number; seed: number; max_reward: number; sum_reward: number; success: boolean; steps: number; misses: number; fallbacks: number; final_info: Record<string, number | string | boolean>; jerk?: ChunkJerk }[];
  loop: LoopSummary;
  files: { plot?: string; gifs: string[]; record?: string };
  loop_events?: CompactLoopEvents;
}

/** The aggregates over per-episode rows (in row order); a merged report recomputes them with this. */
export function aggregate(per_episode: EvalReport["per_episode"], eval_s: number): EvalReport["aggregated"] {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    avg_max_reward: mean(per_episode.map((p) => p.max_reward)),
    avg_sum_reward: mean(per_episode.map((p) => p.sum_reward)),
    pc_success: 100 * mean(per_episode.map((p) => (p.success ? 1 : 0))),
    eval_s,
    eval_ep_s: eval_s / Math.max(1, per_episode.length),
    n_episodes: per_episode.length,
    boundary_jerk: jerkRatio(per_episode.flatMap((p) => (p.jerk ? [p.jerk] : []))),
  };
}

/**
 * Evaluate a policy through the control loop on a virtual clock (Diffusion Policy's protocol): `episodes`
 * episodes from `seedStart` (or `seeds`), `parallel` at a time in lockstep, with optional GIFs, score plot and
 * recording.
 */
export async function evaluate(o: EvalOptions): Promise<EvalReport> {
  const t0 = performance.now();
  if (o.seeds && o.seeds.length !== o.episodes) throw new Error(`evaluate: ${o.seeds.length} seeds for ${o.episodes} episodes`);
  const seedOf = (i: number) => o.seeds?.[i] ?? o.seedStart + i;
  const parallel = Math.max(1, Math.min(o.parallel ?? 1, o.episodes));
  const slots = await Promise.all(Array.from({ length: parallel }, async () => ({ env: await o.makeEnv(), policy: await o.makePolicy() })));
  const env0 = slots[0].env;
  const periodMs = 1000 / env0.metadata.controlHz;
  const hold = env0.metadata.holdFrom;
  const cfg: Omit<LoopConfig, "seed"> = {
    periodMs,
    fallback: env0.metadata.fallback ?? "zero",
    holdFrom: hold ? (obs) => obs[hold.feature]?.slice(hold.offset, hold.offset + env0.actionSpace.low.length) ?? null : undefined,
    ...o.loop,
    mode: "virtual",
  };
  if (o.loop.latencyMs === "measured" || o.loop.latencyMs === undefined) {
    // the first call of a tfjs model compiles kernels; do it before the clock runs, as a robot would at start-up
    for (const s of slots) {
      try {
        s.policy.reset(0);
        s.policy.observe({ obs: s.env.reset({ seed: seedOf(0) }).obs, prevAction: null });
        await s.policy.sampleChunk({ seed: 0 });
      } catch {
        // a policy that fails (e.g. a non-finite chunk) fails again inside the loop, where it is counted and reported
      }
    }
  }
  const gifN = o.gifDir ? (o.gifEpisodes ?? 3) : 0;
  const ix0 = o.episodeIxStart ?? 0;
  const per_episode: EvalReport["per_episode"] = [];
  let rec: DatasetWriter | null = null;
  // a log format (.mcap) records ticks and loop events; anything else is a native dataset of the executed steps
  const logFmt = o.recordPath ? recorderFor(o.recordPath) : null;
  const log: LogRecorder | null = logFmt ? await logFmt.recorder!(o.recordPath!, { env: env0.id, periodMs, actionDim: env0.actionSpace.low.length, meta: { seedStart: o.seedStart } }) : null;
  let logBase = Date.now(); // the virtual clock, laid onto the wall clock from the start of the evaluation
  const events: EpisodeResult["events"] = [];
  const gifs: string[] = [];
  for (let start = 0; start < o.episodes; start += parallel) {
    const n = Math.min(parallel, o.episodes - start);
    const maxSteps = env0.metadata.maxEpisodeSteps ?? 10_000;
    const sched = virtualScheduler((maxSteps + 10) * periodMs);
    const runs = slots.slice(0, n).map((s, i) => startEpisode(s.env, s.policy, seedOf(start + i), cfg, sched, { render: start + i < gifN, maxSteps }));
    sched.flush();
    for (const r of runs) r.stop();
    for (const [i, run] of runs.entries()) {
      const r = await run.result;
      const fallbacks = Array.from(r.episode.action_is_fallback ?? []).filter((x) => x > 0).length;
      const misses = r.events.filter((e) => e.type === "miss").length;
      // the env's final info, scalars only (e.g. coverage, the side taken around an obstacle)
      const final_info = Object.fromEntries(Object.entries(r.finalInfo).filter(([, v]) => ["number", "string", "boolean"].includes(typeof v))) as Record<string, number | string | boolean>;
      per_episode.push({ episode_ix: ix0 + per_episode.length, seed: r.seed, max_reward: r.maxReward, sum_reward: r.sumReward, success: r.success, steps: r.steps, misses, fallbacks, final_info, jerk: chunkJerk(r.events) });
      for (const e of r.events) events.push(e);
      if (log) logBase = logEpisode(log, logBase, periodMs, ix0 + start + i, r);
      else if (o.recordPath) {
        rec ??= new DatasetWriter(o.recordPath, Object.fromEntries(Object.entries(r.episode).map(([k, v]) => [k, { shape: [v.length / Math.max(1, r.steps)] }])), { env: env0.id, seedStart: o.seedStart, fps: env0.metadata.controlHz });
        if (r.steps > 0) rec.appendEpisode(r.episode);
      }
      if (start + i < gifN && o.gifDir) {
        fs.mkdirSync(o.gifDir, { recursive: true });
        const g = path.join(o.gifDir, `episode_${String(ix0 + start + i).padStart(3, "0")}_seed_${r.seed}.gif`);
        writeGif(g, r.frames, env0.metadata.controlHz);
        gifs.push(g);
        r.frames.length = 0;
      }
      r.events.length = 0;
      o.onEpisode?.(per_episode.length, r);
    }
  }
  rec?.finalize();
  await log?.close();
  const eval_s = (performance.now() - t0) / 1000;
  const report: EvalReport = {
    aggregated: aggregate(per_episode, eval_s),
    per_episode,
    loop: summarizeLoop(events),
    files: { gifs, ...(o.recordPath ? { record: o.recordPath } : {}) },
    ...(o.keepLoopEvents ? { loop_events: compactLoopEvents(events) } : {}),
  };
  if (o.plotPath) {
    plotScores(o.plotPath, per_episode.map((p) => p.max_reward), per_episode.map((p) => p.success), env0.id);
    report.files.plot = o.plotPath;
  }
  for (const s of slots) s.policy.dispose?.();
  return report;
}
