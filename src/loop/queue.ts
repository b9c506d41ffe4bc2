/**
 * The action queue of the control loop: predictions indexed by the ABSOLUTE tick they are for, so chunk latency
 * is explicit. A chunk requested at tick k holds actions for ticks k … k+H−1; entries for ticks that were already
 * executed when it arrives are dropped, so the actions executed during the computation stay as they were.
 *   receding(n):   replan when nothing is queued; keep the first n actions of each chunk.
 *   ensemble(m):   replan every tick; a tick's action is the ACT average with weights exp(−m·i), i = 0 oldest.
 *   async(t, rule): replan when ≤ t future actions remain; overlapping predictions merged latest-only or averaged.
 */
/** How chunks are executed: `receding` (n of H, then replan), `ensemble` (ACT temporal ensembling), `async` (replan while the queue runs). */
export type Strategy =
  | { kind: "receding"; execute: number }
  | { kind: "ensemble"; m: number }
  | { kind: "async"; threshold: number; merge: "latest" | "average" };

/** The loop's queue of predicted actions, indexed by the absolute tick they are for, merged by the {@link Strategy}. */
export class ActionQueue {
  private readonly preds = new Map<number, Float32Array[]>();
  constructor(readonly strategy: Strategy, readonly horizon: number, readonly actionDim: number) {
    if (strategy.kind === "receding" && !(strategy.execute >= 1 && strategy.execute <= horizon))
      throw new Error(`receding horizon: execute must be in 1..${horizon} (the chunk length), got ${strategy.execute}`);
    if (strategy.kind === "async" && !(strategy.threshold >= 0 && strategy.threshold < horizon))
      throw new Error(`async inference: threshold must be in 0..${horizon - 1}, got ${strategy.threshold}`);
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
    return this.depth(tick) <= s.threshold;
  }

  /** Insert a chunk [H * A] requested at `requestTick`; ticks before `firstOpenTick` have already executed. */
  insert(chunk: Float32Array, requestTick: number, firstOpenTick: number): void {
    if (chunk.length !== this.horizon * this.actionDim) throw new Error(`chunk has ${chunk.length} values, expected ${this.horizon} x ${this.actionDim}`);
    const s = this.strategy;
    const n = s.kind === "receding" ? s.execute : this.horizon;
    const replace = s.kind === "receding" || (s.kind === "async" && s.merge === "latest");
    if (s.kind === "receding") this.preds.clear();
    for (let i = 0; i < n; i++) {
      const tick = requestTick + i;
      if (tick < firstOpenTick) continue;
      const a = chunk.slice(i * this.actionDim, (i + 1) * this.actionDim);
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
    if (list.length === 1) return list[0];
    const s = this.strategy;
    const w = list.map((_, i) => (s.kind === "ensemble" ? Math.exp(-s.m * i) : 1));
    const out = new Float32Array(this.actionDim);
    const total = w.reduce((a, b) => a + b, 0);
    list.forEach((a, i) => a.forEach((v, j) => (out[j] += (w[i] * v) / total)));
    return out;
  }

  /** Forget every queued action (a bad observation drops the plan). */
  clear(): void {
    this.preds.clear();
  }
}
