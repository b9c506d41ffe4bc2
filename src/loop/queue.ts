/**
 * The action queue of the control loop: predictions indexed by the ABSOLUTE tick they are for, so chunk latency
 * is explicit. A chunk requested at tick k holds actions for ticks k … k+H−1; entries for ticks that were already
 * executed when it arrives are dropped, so the actions executed during the computation stay as they were.
 *   receding(n):   replan when nothing is queued; keep the first n actions of each chunk.
 *   ensemble(m):   replan every tick; a tick's action is the ACT average with weights exp(−m·i), i = 0 oldest.
 *   async(t, rule): replan when ≤ t future actions remain; overlapping predictions merged latest-only or averaged.
 *   rtc(s, d):     real-time chunking (Black, Galliker & Levine 2025, "Real-Time Execution of Action Chunking Flow
 *                  Policies"): replan every s actions; the first d actions of the new chunk are frozen to the plan
 *                  already queued for those ticks (they run while the chunk is computed), the rest replaces it. The
 *                  policy is asked to continue the queued plan ({@link rtcGuide}), so the chunks join smoothly.
 */
import type { ChunkGuide } from "../policies/types.ts";

/** How chunks are executed: `receding` (n of H, then replan), `ensemble` (ACT temporal ensembling), `async` (replan while the queue runs). */
export type Strategy =
  | { kind: "receding"; execute: number }
  | { kind: "ensemble"; m: number }
  | { kind: "async"; threshold: number; merge: "latest" | "average" }
  | { kind: "rtc"; execute: number; delay: number | "auto"; softMask?: number; guidance?: "inpaint" | "pigdm"; beta?: number };

/** The loop's queue of predicted actions, indexed by the absolute tick they are for, merged by the {@link Strategy}. */
export class ActionQueue {
  private readonly preds = new Map<number, { a: Float32Array; from: number }[]>();
  /** The request tick of the newest chunk behind the last action {@link ActionQueue.pop} returned (−1 for none). */
  lastChunk = -1;
  constructor(readonly strategy: Strategy, readonly horizon: number, readonly actionDim: number) {
    if (strategy.kind === "receding" && !(strategy.execute >= 1 && strategy.execute <= horizon))
      throw new Error(`receding horizon: execute must be in 1..${horizon} (the chunk length), got ${strategy.execute}`);
    if (strategy.kind === "async" && !(strategy.threshold >= 0 && strategy.threshold < horizon))
      throw new Error(`async inference: threshold must be in 0..${horizon - 1}, got ${strategy.threshold}`);
    if (strategy.kind === "rtc") {
      const d = strategy.delay === "auto" ? 0 : strategy.delay;
      if (!(strategy.execute >= 1 && strategy.execute <= horizon && d >= 0 && d <= strategy.execute))
        throw new Error(`real-time chunking: need 0 ≤ delay ≤ execute ≤ ${horizon} (the chunk length), got delay ${strategy.delay}, execute ${strategy.execute}`);
      this.delay = d;
    }
  }

  /** Real-time chunking: the delay estimate in ticks (fixed, or with delay "auto" the latest inference's). */
  delay = 0;

  /** Real-time chunking with delay "auto": the last inference took this many ticks, so expect as many next time. */
  observeDelay(ticks: number): void {
    const s = this.strategy;
    if (s.kind === "rtc" && s.delay === "auto") this.delay = Math.max(0, Math.min(s.execute, Math.ceil(ticks)));
  }

  /** Number of queued ticks ≥ tick. */
  depth(tick: number): number {
    let n = 0;
    for (const t of this.preds.keys()) if (t >= tick) n++;
    return n;
  }

  /** Whether the strategy asks for a new chunk at `tick`. */
  needsInference(tick: number): boolean {
    const s = this.strategy;
    if (s.kind === "ensemble") return true;
    if (s.kind === "receding") return this.depth(tick) === 0;
    if (s.kind === "rtc") return this.depth(tick) <= this.horizon - s.execute;
    return this.depth(tick) <= s.threshold;
  }

  /** Insert a chunk [H * A] requested at `requestTick`; ticks before `firstOpenTick` have already executed. */
  insert(chunk: Float32Array, requestTick: number, firstOpenTick: number): void {
    if (chunk.length !== this.horizon * this.actionDim) throw new Error(`chunk has ${chunk.length} values, expected ${this.horizon} x ${this.actionDim}`);
    const s = this.strategy;
    const n = s.kind === "receding" ? s.execute : this.horizon;
    const replace = s.kind === "receding" || s.kind === "rtc" || (s.kind === "async" && s.merge === "latest");
    if (s.kind === "receding") this.preds.clear();
    for (let i = 0; i < n; i++) {
      const tick = requestTick + i;
      if (tick < firstOpenTick) continue;
      // rtc: the frozen prefix keeps the plan that was queued for it (it runs while this chunk was computed)
      if (s.kind === "rtc" && i < this.delay && this.preds.has(tick)) continue;
      const a = { a: chunk.slice(i * this.actionDim, (i + 1) * this.actionDim), from: requestTick };
      const list = this.preds.get(tick);
      if (!list || replace) this.preds.set(tick, [a]);
      else list.push(a);
    }
  }

  /** The action for `tick` (merged by the strategy), or null if none is queued. Forgets ticks ≤ tick. */
  pop(tick: number): Float32Array | null {
    const list = this.preds.get(tick);
    for (const t of [...this.preds.keys()]) if (t <= tick) this.preds.delete(t);
    if (!list || !list.length) return null;
    this.lastChunk = list[list.length - 1].from;
    if (list.length === 1) return list[0].a;
    const s = this.strategy;
    const w = list.map((_, i) => (s.kind === "ensemble" ? Math.exp(-s.m * i) : 1));
    const out = new Float32Array(this.actionDim);
    const total = w.reduce((a, b) => a + b, 0);
    list.forEach(({ a }, i) => a.forEach((v, j) => (out[j] += (w[i] * v) / total)));
    return out;
  }

  /** The queued plan for ticks `tick` … `tick + count − 1`, flat [count · A], and how many of those ticks have one. */
  plan(tick: number, count: number): { actions: Float32Array; queued: number } {
    const actions = new Float32Array(count * this.actionDim);
    let queued = 0;
    for (let i = 0; i < count; i++) {
      const list = this.preds.get(tick + i);
      if (!list?.length) break;
      actions.set(list[list.length - 1].a, i * this.actionDim);
      queued++;
    }
    return { actions, queued };
  }

  /** Forget every queued action (a bad observation drops the plan). */
  clear(): void {
    this.preds.clear();
  }
}


/**
 * The guide for a chunk requested at `tick` under real-time chunking: weight 1 on the first `delay` indices (frozen),
 * then an exponentially decaying soft mask over the rest of the queued plan (`softMask` indices, default all of
 * it), 0 beyond — Black et al. 2025, eq. 5: w_i = c_i (e^{c_i} − 1) / (e − 1), c_i = (H − s − i) / (H − s − d + 1).
 * Null when nothing is queued (the first chunk) or nothing is to be continued.
 */
export function rtcGuide(queue: ActionQueue, tick: number, s: Extract<Strategy, { kind: "rtc" }>): ChunkGuide | null {
  const H = queue.horizon;
  const { actions, queued } = queue.plan(tick, H);
  if (queued === 0) return null;
  const weights = new Float32Array(H);
  const d = queue.delay;
  const soft = Math.min(queued, d + (s.softMask ?? H));
  for (let i = 0; i < soft; i++) {
    if (i < Math.min(d, queued)) weights[i] = 1;
    else {
      const c = (queued - i) / (queued - d + 1);
      weights[i] = (c * (Math.exp(c) - 1)) / (Math.E - 1);
    }
  }
  if (weights.every((w) => w === 0)) return null;
  return { prefix: actions, weights, ...(s.guidance ? { method: s.guidance } : {}), ...(s.beta !== undefined ? { beta: s.beta } : {}) };
}
