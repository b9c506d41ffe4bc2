/** Safety helpers of the loop: observation checks, clamping, fallback actions. Pure functions. */
import type { Box, Obs } from "../envs/types.ts";
import { boxDim } from "../envs/types.ts";

/** An observation and when it was taken, on the loop's clock (the loop refuses stale ones). */
export interface TimedObs {
  obs: Obs;
  t: number; // time the observation was taken, on the loop's clock (ms)
}

/** Why an observation must not reach the policy, or null if it is fine. */
export function checkObservation(o: TimedObs | null, space: Record<string, Box>, now: number, maxAgeMs: number, rangeSlack = 0.5): string | null {
  if (!o) return "no observation yet";
  if (now - o.t > maxAgeMs) return `stale observation (${(now - o.t).toFixed(1)} ms old, max ${maxAgeMs} ms)`;
  for (const [name, box] of Object.entries(space)) {
    const v = o.obs[name];
    if (!v) return `observation "${name}" missing`;
    if (v.length !== boxDim(box)) return `observation "${name}" has ${v.length} values, expected ${boxDim(box)}`;
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) return `observation "${name}"[${i}] is ${v[i]}`;
      const lo = box.low[i], hi = box.high[i], span = (hi - lo) * rangeSlack;
      if (v[i] < lo - span || v[i] > hi + span) return `observation "${name}"[${i}] = ${v[i]} is far out of range [${lo}, ${hi}]`;
    }
  }
  return null;
}

export function clampAction(a: ArrayLike<number>, space: Box): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isFinite(a[i]) ? Math.min(space.high[i], Math.max(space.low[i], a[i])) : NaN;
  return out;
}

/** Fallbacks: hold the last target (position control) or zero (velocity control). */
export type Fallback = "hold" | "zero";
export function fallbackAction(kind: Fallback, last: Float32Array | null, space: Box, obsHold?: Float32Array | null): Float32Array {
  if (kind === "zero") return new Float32Array(boxDim(space)).map((_, i) => Math.min(space.high[i], Math.max(space.low[i], 0)));
  if (last) return last.slice();
  if (obsHold) return clampAction(obsHold, space);
  return new Float32Array(boxDim(space)).map((_, i) => (space.low[i] + space.high[i]) / 2);
}

/** Why a policy's chunk must not be queued (wrong length for H · A, or a non-finite value), or null if it is fine. */
export function chunkProblem(chunk: Float32Array, horizon: number, actionDim: number): string | null {
  let bad = chunk.length !== horizon * actionDim;
  for (let i = 0; !bad && i < chunk.length; i++) if (!Number.isFinite(chunk[i])) bad = true;
  return bad ? `policy returned an invalid chunk (${chunk.length} values or non-finite)` : null;
}
