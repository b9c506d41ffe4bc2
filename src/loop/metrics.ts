/** Loop metrics: tick jitter, inference time, queue depth, misses — as quantiles. Pure over the event list. */
import type { LoopEvent } from "./loop.ts";

/** p50, p95, p99 and the maximum of a list of numbers (NaN when it is empty). */
export interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
/** The loop's timing and safety figures over a run, from its events ({@link summarizeLoop}). */
export interface LoopSummary {
  /** Commands sent (one per tick that had one). */
  ticks: number;
  /** Real-time overload: ticks that passed with no command (skipped while the thread was blocked, or whose action
   * came after their period). Each is also a miss; ticks + unsent = ticks elapsed. */
  unsent: number;
  misses: number;
  /** misses / ticks elapsed (ticks + unsent) */
  missRate: number;
  /** Misses before the first policy action (the first chunk is still being computed) and after it. */
  startupMisses: number;
  steadyMissRate: number;
  fallbacks: number;
  errors: number;
  /** Actions that came from the policy (not fallbacks); 0 with errors > 0 means every inference failed. */
  policyActions: number;
  /** The reason of the first error event, if any. */
  firstError: string | null;
  /** |tick start − its scheduled time| */
  jitterMs: Quantiles;
  /** action sent − scheduled tick time (includes waiting for a chunk in flight, up to the deadline) */
  actionDelayMs: Quantiles;
  inferenceMs: Quantiles & { count: number };
  queueDepth: Quantiles;
}

export function quantiles(xs: number[]): Quantiles {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : NaN);
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s.length ? s[s.length - 1] : NaN };
}

/** Summarize loop events: ticks, misses (at start-up and after), fallbacks, errors, and quantiles of jitter, action delay, inference time and queue depth. */
export function summarizeLoop(events: LoopEvent[]): LoopSummary {
  const acts = events.filter((e): e is Extract<LoopEvent, { type: "action" }> => e.type === "action" && e.source !== "final");
  const inf = events.filter((e): e is Extract<LoopEvent, { type: "inference" }> => e.type === "inference");
  const misses = events.filter((e) => e.type === "miss").length;
  const firstPolicy = acts.find((a) => a.source === "policy")?.tick ?? Infinity;
  const startupMisses = events.filter((e) => e.type === "miss" && e.tick < firstPolicy).length;
  const sent = new Set(acts.map((a) => a.tick));
  const unsentTicks = [...new Set(events.flatMap((e) => (e.type === "miss" && !sent.has(e.tick) ? [e.tick] : [])))];
  const elapsed = acts.length + unsentTicks.length;
  const steadyTicks = acts.filter((a) => a.tick >= firstPolicy).length + unsentTicks.filter((t) => t >= firstPolicy).length;
  return {
    ticks: acts.length,
    unsent: unsentTicks.length,
    misses,
    missRate: elapsed ? misses / elapsed : 0,
    startupMisses,
    steadyMissRate: steadyTicks ? (misses - startupMisses) / steadyTicks : 0,
    fallbacks: acts.filter((a) => a.source === "fallback").length,
    errors: events.filter((e) => e.type === "error").length,
    policyActions: acts.filter((a) => a.source === "policy").length,
    firstError: (events.find((e) => e.type === "error") as { reason: string } | undefined)?.reason ?? null,
    jitterMs: quantiles(acts.map((a) => Math.abs(a.tickT - a.scheduledT))),
    actionDelayMs: quantiles(acts.map((a) => a.t - a.scheduledT)),
    inferenceMs: { ...quantiles(inf.map((e) => e.ms)), count: inf.length },
    queueDepth: quantiles(acts.map((a) => a.queueDepth)),
  };
}

/**
 * A run in which the policy never produced an action but errors occurred (every inference failed): the message
 * to exit with, naming the first reason; null otherwise.
 */
export function allInferenceFailed(s: LoopSummary, what: string): string | null {
  if (s.policyActions > 0 || s.errors === 0) return null;
  return `${what}: every inference failed (${s.errors} errors, ${s.ticks} fallback actions, no policy action); the first: ${s.firstError}`;
}

export function formatSummary(s: LoopSummary): string {
  const f = (q: Quantiles) => `p50 ${q.p50.toFixed(2)} / p95 ${q.p95.toFixed(2)} / p99 ${q.p99.toFixed(2)}`;
  return [
    `ticks ${s.ticks}${s.unsent ? ` (+ ${s.unsent} passed without a command)` : ""}, misses ${s.misses} (${(100 * s.missRate).toFixed(2)} %; ${s.startupMisses} before the first chunk, ${(100 * s.steadyMissRate).toFixed(2)} % after), fallbacks ${s.fallbacks}, errors ${s.errors}`,
    `tick jitter ms: ${f(s.jitterMs)}; action delay ms: ${f(s.actionDelayMs)}`,
    `inference ms (${s.inferenceMs.count} calls): ${f(s.inferenceMs)}`,
    `queue depth: ${f(s.queueDepth)}`,
  ].join("\n");
}

/**
 * Chunk-boundary jerk: the size of the action change |a_t − a_{t−1}| (Euclidean, env units) between consecutive
 * ticks, summed separately within a chunk (both ticks policy actions from the same chunk) and across a boundary
 * (the chunk changed, or one of the two is a fallback — what the actuator saw when a chunk came late). Pairs of
 * fallbacks are left out. boundary mean / within mean is the jump a chunk switch adds (1: none). Sums and counts,
 * so episodes and shards add up.
 */
export interface ChunkJerk {
  boundary_sum: number;
  boundary_n: number;
  within_sum: number;
  within_n: number;
}

export function chunkJerk(events: readonly LoopEvent[]): ChunkJerk {
  const m = new JerkMeter();
  for (const e of events) m.add(e);
  return m.jerk;
}

/** The chunk-switch jerk measure of `chunkJerk`, one event at a time (the page's live readout). */
export class JerkMeter {
  /** The sums and counts so far. */
  readonly jerk: ChunkJerk = { boundary_sum: 0, boundary_n: 0, within_sum: 0, within_n: 0 };
  private prev: Extract<LoopEvent, { type: "action" }> | null = null;
  /** Count one loop event (only consecutive actions matter). */
  add(e: LoopEvent): void {
    if (e.type !== "action" || e.source === "final") return;
    const prev = this.prev, j = this.jerk;
    if (prev && e.tick === prev.tick + 1 && (prev.source === "policy" || e.source === "policy")) {
      let d = 0;
      for (let i = 0; i < e.action.length; i++) d += (e.action[i] - prev.action[i]) ** 2;
      if (prev.source === "policy" && e.source === "policy" && e.chunk === prev.chunk) (j.within_sum += Math.sqrt(d)), j.within_n++;
      else (j.boundary_sum += Math.sqrt(d)), j.boundary_n++;
    }
    this.prev = e;
  }
  /** Mean action change across chunk switches over the mean inside chunks (1: seamless), or null before both are seen. */
  get ratio(): number | null {
    return jerkRatio([this.jerk]);
  }
}

/** boundary mean / within mean over summed {@link ChunkJerk}s, or null when either has no pair. */
export function jerkRatio(parts: readonly ChunkJerk[]): number | null {
  const s = parts.reduce((a, p) => ({ boundary_sum: a.boundary_sum + p.boundary_sum, boundary_n: a.boundary_n + p.boundary_n, within_sum: a.within_sum + p.within_sum, within_n: a.within_n + p.within_n }), { boundary_sum: 0, boundary_n: 0, within_sum: 0, within_n: 0 });
  if (!s.boundary_n || !s.within_n || !s.within_sum) return null;
  return s.boundary_sum / s.boundary_n / (s.within_sum / s.within_n);
}
