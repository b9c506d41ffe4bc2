/** Rolling readouts for the page (browser-safe): inference times per chunk and deadline misses. */
import { quantiles, JerkMeter } from "../loop/metrics.ts";
import type { LoopEvent } from "../loop/loop.ts";

/** The page's rolling readouts from loop events: inference times per chunk, chunks, deadline misses, errors, chunk-switch jerk. */
export class LoopStats {
  inferMs: number[] = [];
  misses = 0;
  errors = 0;
  chunks = 0;
  lastChunk: Float32Array | null = null;
  lastReason = "";
  /** Chunk-switch jerk: mean action change across chunk boundaries over the mean within chunks (1: seamless). */
  readonly jerk = new JerkMeter();
  /** Count one loop event. */
  add(e: LoopEvent): void {
    this.jerk.add(e);
    if (e.type === "inference") {
      this.inferMs.push(e.ms);
      this.chunks++;
      if (e.chunk) this.lastChunk = e.chunk;
    } else if (e.type === "miss") {
      this.misses++;
      this.lastReason = e.reason;
    } else if (e.type === "error") {
      this.errors++;
      this.lastReason = e.reason;
    }
  }
  /** p50 / p99 of inference ms per chunk (NaN before the first). */
  get inference(): { p50: number; p99: number } {
    const q = quantiles(this.inferMs);
    return { p50: q.p50, p99: q.p99 };
  }
}
