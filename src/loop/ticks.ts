/**
 * A drift-free tick source: tick k is scheduled for start + k·period on the given clock, so a late tick does not
 * push back the ones after it (setInterval's drift). Works on any scheduler (real, virtual, TestScheduler).
 * `spinMs` (real time only): wake up that much early and spin to the exact time, since Node's timers fire
 * 1–2 ms late; it costs up to spinMs + 1 ms of CPU per tick (bounded on the wall clock, so a clock that does
 * not advance while spinning, a virtual one, cannot hang it). Ticks that are already overdue when the source
 * wakes up (the thread was blocked for more than a period) are skipped: the next tick emitted is the current one.
 */
import { Observable, type SchedulerLike } from "rxjs";

export function ticks(periodMs: number, scheduler: SchedulerLike, clock: () => number = () => scheduler.now(), spinMs = 0): Observable<number> {
  return new Observable<number>((sub) => {
    const start = clock();
    return scheduler.schedule<number>(function (k = 0) {
      if (spinMs > 0) {
        // bounded by the wall clock: a clock that does not move while we spin (a virtual one) must not hang us
        const due = start + k * periodMs, until = performance.now() + spinMs + 1;
        while (clock() < due && performance.now() < until);
      }
      // woken (or, spinning, descheduled) more than a period late: jump to the current tick, never replay overdue
      // ones (a burst of stale ticks would make the lag grow without bound under overload)
      const current = Math.floor((clock() - start) / periodMs);
      if (current > k) k = current;
      sub.next(k);
      const next = start + (k + 1) * periodMs;
      this.schedule(k + 1, Math.max(0, next - clock() - spinMs));
    }, 0, 0);
  });
}
