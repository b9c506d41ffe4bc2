/** A progress bar on stderr: redrawn in place on a TTY, a line every few seconds otherwise (CI logs). */
export class Progress {
  private readonly t0 = performance.now();
  private lastDraw = -Infinity; // the first update always draws, however soon after the process started
  private readonly tty = !!process.stderr.isTTY;
  constructor(readonly label: string, readonly total: number, readonly enabled = process.env.SCD_QUIET !== "1") {}

  /**
   * `etaSeconds` overrides the estimate from the mean rate since start (e.g. a resumed run knows its own rate);
   * `fraction` (0–1) overrides done / total for the bar (a run bounded by a clock rather than a count).
   */
  update(done: number, extra = "", etaSeconds?: number, fraction?: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    const final = done >= this.total || fraction === 1;
    if (!final && now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    const frac = fraction ?? (this.total > 0 ? Math.min(1, done / this.total) : 1);
    const el = (now - this.t0) / 1000;
    const rate = done / Math.max(el, 1e-9);
    // the mean rate of the first few items says little (a lockstep batch ends all at once): no guess before a fifth is done or a minute has passed
    const early = etaSeconds === undefined && !final && done < this.total / 5 && el < 60;
    const eta = etaSeconds ?? (rate > 0 ? (this.total - done) / rate : 0);
    const w = 24, fill = Math.round(frac * w);
    const line = `${this.label} [${"#".repeat(fill)}${".".repeat(w - fill)}] ${fraction !== undefined ? `${done} steps, ${Math.round(fraction * 100)} % of the time` : `${done}/${this.total}`} ${fmtTime(el)} elapsed, ETA ${early ? "…" : fmtTime(eta)}${extra ? "  " + extra : ""}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}${final ? "\n" : ""}`);
    else process.stderr.write(line + "\n");
  }
}

export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(1)}s`;
  const t = Math.round(s), m = Math.floor(t / 60); // rounded first: 359.6 s is 6m00s, never 5m60s
  return m < 60 ? `${m}m${String(t % 60).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
