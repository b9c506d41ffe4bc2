/**
 * Node-side figures beside the browser's (test/web.test.ts): Push-T simulator steps/s with the same action sweep
 * and warm-up as the page's bench, and the same SCD export run by onnxruntime-node through the same LiveRun for `steps` steps.
 */
import * as path from "node:path";
import "../envs/index.ts";
import { makeEnv } from "../src/env/registry.ts";
import { loadExport } from "../src/deploy/onnx-policy.ts";
import { nodeRunner } from "../src/deploy/ort-node.ts";
import { quantiles } from "../src/loop/metrics.ts";
import { LiveEnv } from "../src/web/live-env.ts";
import { LiveRun } from "../src/web/live-loop.ts";
import { ROOT } from "../src/web/node/build.ts";

export async function nodeFigures(steps: number, seed0: number): Promise<Record<string, number>> {
  const e = await makeEnv("pusht-v1", {}, { timeLimit: false });
  const sweep = (i: number) => [256 + 100 * Math.cos(i / 20), 256 + 100 * Math.sin(i / 20)];
  e.reset({ seed: 0 });
  for (let i = 0; i < 1000; i++) e.step(sweep(i)); // warm-up (JIT), as the page's bench
  e.reset({ seed: 0 });
  const n = 3000, t0 = performance.now();
  for (let i = 0; i < n; i++) e.step(sweep(i));
  const sim = n / ((performance.now() - t0) / 1000);
  const ex = loadExport(path.join(ROOT, "dist/web/models/pusht-scd"), (b) => nodeRunner(b));
  const ms: number[] = [];
  let total = 0, misses = 0;
  try {
    for (let seed = seed0; total < steps; seed++) {
      const env = new LiveEnv(await makeEnv("pusht-v1", {}, { timeLimit: false }));
      env.restart(seed);
      const run = new LiveRun(env, ex.policy(), { strategy: { kind: "receding", execute: 8 }, steps: 10, seed, maxSteps: Math.min(300, steps - total) }, {
        onEvent: (ev) => (ev.type === "inference" ? ms.push(ev.ms) : ev.type === "miss" && misses++),
      });
      run.start();
      while (run.running) run.pump(Infinity);
      total += env.stats.step;
    }
  } finally {
    ex.dispose();
  }
  const q = quantiles(ms);
  return { nodeSimStepsPerSec: sim, nodeInferP50Ms: q.p50, nodeInferP99Ms: q.p99, nodeMisses: misses, nodeSteps: total };
}
