/**
 * Demonstrations recorded from a robot's topics (`scd record`): a connector listening to the map's observation
 * topics and its action topic (what a teleoperator commands), sampled every control tick (1000 / rateHz ms) with
 * the checks the loop makes: a malformed message (non-finite, missing field, wrong size) is counted and ignored by
 * the connector, and a tick where the newest observation or action is older than the map's maxAgeMs (or the bridge
 * dropped) is stale. Episodes start and stop by the map's marker topic or by start()/stop() (a key); a stale tick
 * ends the episode there, the next fresh tick while recording starts a new one — the rule bag import applies
 * (src/datasets/ros2-bag/resample.ts), so both give evenly spaced steps.
 */
import type { Subscription } from "rxjs";
import type { RosConnector, TimedAction } from "./connector.ts";
import type { TimedObs } from "../loop/safety.ts";
import type { Episode } from "../datasets/episodes.ts";

/** What a recording session reports: per tick kind and per episode. */
export interface RecordStats {
  ticks: number;
  recorded: number;
  stale: number;
  episodes: number;
  /** Pieces of one step, left out (a window needs two). */
  dropped: number;
}

/** Records episodes from a connector; `onEpisode` receives each finished one (features, "action", "timestamp" in ms). */
export class DemoRecorder {
  readonly stats: RecordStats = { ticks: 0, recorded: 0, stale: 0, episodes: 0, dropped: 0 };
  private obs: TimedObs | null = null;
  private action: TimedAction | null = null;
  private rows: { t: number; obs: Record<string, Float32Array>; action: Float32Array }[] = [];
  private on = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly subs: Subscription[] = [];
  private lastStale = "";

  /**
   * @param conn a connector made with `listen: true`.
   * @param o `periodMs` the control tick (ms); `maxAgeMs` the staleness limit (ms); `clock` must be the connector's
   *   (ms); `onEpisode` is called with each finished episode of ≥ 2 steps; `log` gets one line per event.
   */
  constructor(
    private readonly conn: RosConnector,
    private readonly o: { periodMs: number; maxAgeMs: number; clock?: () => number; onEpisode: (ep: Episode) => void; log?: (line: string) => void },
  ) {
    this.subs.push(conn.obs$.subscribe((x) => (this.obs = x)));
    this.subs.push(conn.actions$.subscribe((a) => (this.action = a)));
    this.subs.push(conn.markers$.subscribe((m) => (m ? this.start(`marker on ${conn.map.episodes?.topic}`) : this.stop(`marker on ${conn.map.episodes?.topic}`))));
  }

  /** Whether an episode is being recorded (or waits for fresh data to begin). */
  get recording(): boolean {
    return this.on;
  }

  /** Tick every period from now. */
  run(): void {
    this.timer ??= setInterval(() => this.tick(), this.o.periodMs);
  }

  /** Begin an episode (no-op if one is on). */
  start(why: string): void {
    if (this.on) return;
    this.on = true;
    this.o.log?.(`episode ${this.stats.episodes} started (${why})`);
  }

  /** End the episode (kept if it has ≥ 2 steps). */
  stop(why: string): void {
    if (!this.on) return;
    this.on = false;
    this.flush(why);
  }

  private now(): number {
    return (this.o.clock ?? (() => performance.now()))();
  }

  /** One control tick: sample, or end the piece on staleness. Public for tests. */
  tick(): void {
    this.stats.ticks++;
    if (!this.on) return;
    const t = this.now();
    const why = !this.obs || !Object.keys(this.obs.obs).length ? "no observation" : !this.action ? `no action on ${this.conn.map.action.topic} yet`
      : t - this.obs.t > this.o.maxAgeMs ? `observation ${(t - this.obs.t).toFixed(0)} ms old (maxAgeMs ${this.o.maxAgeMs})`
      : t - this.action.t > this.o.maxAgeMs ? `action ${(t - this.action.t).toFixed(0)} ms old (maxAgeMs ${this.o.maxAgeMs})` : null;
    if (why) {
      this.stats.stale++;
      if (this.rows.length) this.flush(`stale: ${why}`);
      else if (why !== this.lastStale) this.o.log?.(`waiting: ${why}`);
      this.lastStale = why;
      return;
    }
    this.lastStale = "";
    this.rows.push({ t, obs: this.obs!.obs as Record<string, Float32Array>, action: this.action!.values });
    this.stats.recorded++;
  }

  private flush(why: string): void {
    const rows = this.rows;
    this.rows = [];
    if (rows.length < 2) {
      if (rows.length) this.stats.dropped++;
      return;
    }
    const ep: Episode = {};
    for (const f of Object.keys(rows[0].obs)) {
      const d = rows[0].obs[f].length, a = new Float32Array(rows.length * d);
      rows.forEach((r, i) => a.set(r.obs[f], i * d));
      ep[f] = a;
    }
    const A = rows[0].action.length, act = new Float32Array(rows.length * A);
    rows.forEach((r, i) => act.set(r.action, i * A));
    ep.action = act;
    ep.timestamp = Float32Array.from(rows, (r) => r.t - rows[0].t);
    this.stats.episodes++;
    this.o.log?.(`episode ${this.stats.episodes - 1}: ${rows.length} steps (${((rows.at(-1)!.t - rows[0].t) / 1000).toFixed(1)} s), ended by ${why}`);
    this.o.onEpisode(ep);
  }

  /** Stop ticking and listening; an open episode is ended and kept. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stop("the end of the recording");
    for (const s of this.subs) s.unsubscribe();
  }
}
