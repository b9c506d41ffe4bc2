/**
 * Sharded evaluation: shard K of N (0-based) evaluates one contiguous, disjoint slice of the episode seeds, so
 * the shards' rows concatenated in shard order are the single run's rows in seed order. K and N come from a flag
 * or, on a cluster, from the scheduler's array variables (Slurm job arrays, Kubernetes Indexed Jobs).
 */
import * as path from "node:path";
import { ScdError } from "../errors.ts";

export interface Shard {
  /** 0-based shard index K, 0 ≤ K < count */
  index: number;
  /** number of shards N ≥ 1 */
  count: number;
}

/** Parse "K/N" (0-based K). Throws ScdError naming `what` and the value. */
export function parseShard(v: string, what = "--shard"): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(v);
  if (!m) throw new ScdError(`${what} must be K/N with 0 ≤ K < N (e.g. 2/4), got "${v}"`);
  const s = { index: Number(m[1]), count: Number(m[2]) };
  if (s.count < 1 || s.index >= s.count) throw new ScdError(`${what} ${v}: K must be in 0..N-1 and N ≥ 1`);
  return s;
}

function envInt(env: Record<string, string | undefined>, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v.trim())) throw new ScdError(`environment variable ${name} must be a non-negative integer, got "${v}"`);
  return Number(v);
}

/**
 * The shard from the scheduler's environment, or null outside an array job.
 * Slurm: K = SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN (so --array=1-4 works too), N = SLURM_ARRAY_TASK_COUNT.
 * Kubernetes Indexed Job: K = JOB_COMPLETION_INDEX, N = `shards` (the manifest's completions; Kubernetes does not
 * export it). Throws ScdError when the variables are inconsistent (e.g. an array with gaps such as --array=0,2).
 */
export function shardFromEnv(env: Record<string, string | undefined>, shards?: number): (Shard & { source: string }) | null {
  const id = envInt(env, "SLURM_ARRAY_TASK_ID");
  if (id !== undefined) {
    const count = envInt(env, "SLURM_ARRAY_TASK_COUNT");
    const min = envInt(env, "SLURM_ARRAY_TASK_MIN") ?? 0;
    const max = envInt(env, "SLURM_ARRAY_TASK_MAX");
    if (count === undefined) throw new ScdError(`SLURM_ARRAY_TASK_ID is set (${id}) but SLURM_ARRAY_TASK_COUNT is not; pass --shard K/N`);
    if (max !== undefined && max - min + 1 !== count)
      throw new ScdError(`the Slurm array ${min}-${max} has gaps (${count} tasks); sharded eval needs a contiguous --array such as 0-${count - 1}, or pass --shard K/N`);
    const s = { index: id - min, count, source: `SLURM_ARRAY_TASK_ID=${id} of SLURM_ARRAY_TASK_COUNT=${count}` };
    if (s.index < 0 || s.index >= count) throw new ScdError(`SLURM_ARRAY_TASK_ID=${id} is outside the array (min ${min}, ${count} tasks)`);
    return s;
  }
  const k = envInt(env, "JOB_COMPLETION_INDEX");
  if (k !== undefined) {
    if (shards === undefined) throw new ScdError(`JOB_COMPLETION_INDEX is set (${k}); pass --shards N (the Indexed Job's completions)`);
    if (!(shards >= 1) || k >= shards) throw new ScdError(`JOB_COMPLETION_INDEX=${k} must be < --shards ${shards}`);
    return { index: k, count: shards, source: `JOB_COMPLETION_INDEX=${k} of --shards ${shards}` };
  }
  if (shards !== undefined) throw new ScdError(`--shards ${shards} needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); elsewhere pass --shard K/N`);
  return null;
}

/** Episodes [start, start + count) of `episodes` for shard K of N: sizes differ by at most one. */
export function shardSlice(episodes: number, s: Shard): { start: number; count: number } {
  if (s.count > episodes) throw new ScdError(`${s.count} shards for ${episodes} episodes would leave shards empty; use at most ${episodes} shards`);
  const start = Math.floor((s.index * episodes) / s.count);
  return { start, count: Math.floor(((s.index + 1) * episodes) / s.count) - start };
}

/** "out/eval.json" → "out/eval.shard-2-of-4.json" (any extension): every task of an array writes its own file. */
export function shardPath(file: string, s: Shard): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.shard-${s.index}-of-${s.count}${ext}`;
}
