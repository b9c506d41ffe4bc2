/**
 * A drift-free tick source: tick k is scheduled for start + k·period on the given clock, so a late tick does not
 * push back the ones after it (setInterval's drift). Works on any scheduler (real, virtual, TestScheduler).
 */
import { Observable, type SchedulerLike } from "rxjs";

export function ticks(periodMs: number, scheduler: SchedulerLike, clock: () => number = () => scheduler.now()): Observable<number> {
  return new Observable<number>((sub) => {
    const start = clock();
    return scheduler.schedule<number>(function (k = 0) {
      sub.next(k);
      const next = start + (k + 1) * periodMs;
      this.schedule(k + 1, Math.max(0, next - clock()));
    }, 0, 0);
  });
}
