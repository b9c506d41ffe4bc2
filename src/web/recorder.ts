/**
 * Records a person's episodes in the page (browser-safe) and writes them as a native dataset file (the bytes
 * `scd dataset inspect` / `scd train` read): every observation feature of the env, the executed action and a
 * timestamp in seconds from the episode's start. An episode shorter than 2 steps is dropped (nothing to learn).
 */
import type { Box, Obs } from "../envs/types.ts";
import type { Episode, Schema } from "../datasets/episodes.ts";
import { encodeDataset } from "../datasets/native-bytes.ts";

/** Records a person's episodes in the page and writes them as a native `.scdd` dataset ({@link Recorder.bytes}). */
export class Recorder {
  readonly schema: Schema;
  readonly episodes: Episode[] = [];
  private cur: Record<string, number[]> | null = null;

  constructor(observationSpace: Record<string, Box>, actionSpace: Box, readonly envId: string, readonly controlHz: number) {
    this.schema = { ...Object.fromEntries(Object.entries(observationSpace).map(([k, b]) => [k, { shape: b.shape }])), action: { shape: actionSpace.shape }, timestamp: { shape: [1] } };
  }

  /** Whether an episode is open. */
  get recording(): boolean {
    return this.cur !== null;
  }

  /** Open a new episode. */
  begin(): void {
    this.cur = Object.fromEntries(Object.keys(this.schema).map((k) => [k, []]));
  }

  /** Add one executed step to the open episode (ignored when none is open); `tSec`: seconds since the run started. */
  add(obs: Obs, action: ArrayLike<number>, tSec: number): void {
    const c = this.cur;
    if (!c) return;
    for (const k of Object.keys(this.schema)) {
      if (k === "action") c.action.push(...Array.from(action));
      else if (k === "timestamp") c.timestamp.push(tSec);
      else c[k].push(...obs[k]);
    }
  }

  /** Steps in the open episode (0 when none is open). */
  get openSteps(): number {
    return this.cur?.timestamp.length ?? 0;
  }

  /**
   * Close the current episode, keeping all but its last `dropLast` steps (the idle time after a person let go);
   * returns the steps kept (0 if dropped as too short, or none was open).
   */
  end(dropLast = 0): number {
    const c = this.cur;
    this.cur = null;
    if (!c) return 0;
    const n = c.timestamp.length, keep = Math.max(0, n - Math.max(0, Math.floor(dropLast)));
    if (keep < n) for (const k of Object.keys(c)) c[k].length = (c[k].length / n) * keep;
    if (keep < 2) return 0;
    const t0 = c.timestamp[0];
    c.timestamp = c.timestamp.map((t) => t - t0);
    this.episodes.push(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Float32Array.from(v)])));
    return c.timestamp.length;
  }

  /** Drop the open episode (Discard while recording); returns the steps dropped. */
  discard(): number {
    const n = this.openSteps;
    this.cur = null;
    return n;
  }

  /** Drop the last kept episode; returns its steps (0 when none is kept). */
  discardLast(): number {
    return this.episodes.pop()?.timestamp.length ?? 0;
  }

  /** Steps in the kept episodes. */
  get steps(): number {
    return this.episodes.reduce((a, e) => a + e.timestamp.length, 0);
  }

  /** The dataset file (throws ScdError on a non-finite value, naming the episode and feature). */
  bytes(): Uint8Array {
    return encodeDataset(this.schema, this.episodes, { source: "scd web page", env: this.envId, controlHz: this.controlHz, recordedAt: new Date().toISOString() }, "recording");
  }
}
