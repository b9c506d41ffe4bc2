/**
 * Tick times and deadline tests of one control-loop run, on the loop's clock (ms). Virtual time never runs late:
 * there, inference latency is modelled by scheduling the chunk's arrival, so only real time has deadline misses
 * caused by the loop's own computation.
 */
export class TickClock {
  /** When tick 0 was due (set by {@link TickClock.begin} as the loop starts). */
  start = NaN;

  /**
   * @param periodMs control period: tick k is due at start + k · periodMs
   * @param deadlineMs how long after its tick an action may still go out
   * @param realtime whether the clock is real time (deadlines apply) or virtual
   */
  constructor(readonly periodMs: number, readonly deadlineMs: number, readonly realtime: boolean, readonly clock: () => number) {}

  /** Start counting ticks from now. */
  begin(): void {
    this.start = this.clock();
  }

  /** When `tick` was due. */
  due(tick: number): number {
    return this.start + tick * this.periodMs;
  }

  /** The tick current at time `t` (default now). */
  current(t = this.clock()): number {
    return Math.floor((t - this.start) / this.periodMs);
  }

  /** Real time: more than the deadline has passed since `dueT`, so an action for that tick would go out late. */
  late(dueT: number): boolean {
    return this.realtime && this.clock() - dueT > this.deadlineMs;
  }

  /** Real time: `tick`'s whole period has passed (a later tick is due), so a command for it would be a stale one. */
  passed(tick: number): boolean {
    return this.realtime && this.clock() >= this.due(tick + 1);
  }
}

/**
 * Real time: the intervals in which the loop's own synchronous policy calls blocked the thread. Observations cannot
 * arrive then, so that time does not count towards their age (else one slow inference makes the next observation
 * "stale", the plan is dropped and computed again: a self-inflicted fallback loop). In virtual time it records
 * nothing.
 */
export class BlockedTime {
  private readonly spans: [number, number][] = [];
  /** Intervals kept: older ones only matter for observation ages longer than this many calls, stale by then anyway. */
  static readonly KEEP = 64;

  constructor(readonly realtime: boolean, readonly clock: () => number) {}

  /** Run `fn`, recording the interval it blocked the thread (real time only). */
  run<T>(fn: () => T): T {
    if (!this.realtime) return fn();
    const t0 = this.clock();
    try {
      return fn();
    } finally {
      const t1 = this.clock();
      if (t1 > t0) this.spans.push([t0, t1]);
      if (this.spans.length > BlockedTime.KEEP) this.spans.shift();
    }
  }

  /** Milliseconds of [t, now] during which the thread was blocked by calls made through {@link BlockedTime.run}. */
  since(t: number, now: number): number {
    return this.spans.reduce((a, [b0, b1]) => a + Math.max(0, Math.min(b1, now) - Math.max(b0, t)), 0);
  }
}
