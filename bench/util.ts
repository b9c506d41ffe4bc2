export interface BenchResult {
  name: string;
  title: string;
  rows: string[][];
  summary: string;
  json: Record<string, unknown>;
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/** Median and p90 wall time (ms) of fn over iters runs after warmup runs. */
export function timeIt(fn: () => void, iters: number, warmup = 1): { median: number; p90: number; samples: number[] } {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return { median: quantile(samples, 0.5), p90: quantile(samples, 0.9), samples };
}
