/**
 * Node-side figures beside the browser's (test/web.test.ts): Push-T simulator steps/s from the page's own bench (apps/web/checks.ts)
 * run in Node, and the same SCD export run by onnxruntime-node through the same LiveRun for `steps` steps,
 * and the shipped checkpoint on tfjs (wasm backend) for `tfjsSteps` steps, as the page's TensorFlow.js runtime.
 */
import * as path from "node:path";
import "../src/envs/index.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { loadExport } from "../src/deploy/onnx-policy.ts";
import { nodeRunner } from "../src/deploy/ort-node.ts";
import { quantiles } from "../src/loop/metrics.ts";
import { LiveEnv } from "../src/web/live-env.ts";
import { LiveRun } from "../src/web/live-loop.ts";
import { ROOT } from "../apps/web/build.ts";
import { simBench } from "../apps/web/checks.ts";
import { initBackend } from "../src/backend/index.ts";
import { loadPolicy } from "../src/checkpoints/load-checkpoint.ts";
import type { ChunkPolicy } from "../src/policies/types.ts";

/** Per-chunk inference ms and deadline misses of `make()`'s policies driving Push-T through LiveRun from seed0 for `steps` steps. */
async function liveFigures(make: () => ChunkPolicy, steps: number, seed0: number): Promise<{ ms: number[]; misses: number; total: number }> {
  const ms: number[] = [];
  let total = 0, misses = 0;
  for (let seed = seed0; total < steps; seed++) {
    const env = new LiveEnv(await makeEnv("pusht-v1", {}, { timeLimit: false }));
    env.restart(seed);
    const policy = make();
    const run = new LiveRun(env, policy, { strategy: { kind: "receding", execute: 8 }, steps: 10, seed, maxSteps: Math.min(300, steps - total) }, {
      onEvent: (ev) => (ev.type === "inference" ? ms.push(ev.ms) : ev.type === "miss" && misses++),
    });
    run.start();
    while (run.running) run.pump(Infinity);
    policy.dispose?.();
    total += env.stats.step;
  }
  return { ms, misses, total };
}

export async function nodeFigures(steps: number, seed0: number, tfjsSteps = 160): Promise<Record<string, number>> {
  const sim = await simBench("pusht-v1", 3000); // the page's own bench, run in Node
  const ex = loadExport(path.join(ROOT, "dist/web/models/pusht-scd"), (b) => nodeRunner(b));
  let onnx: Awaited<ReturnType<typeof liveFigures>>;
  try {
    onnx = await liveFigures(() => ex.policy(), steps, seed0);
  } finally {
    ex.dispose();
  }
  await initBackend("wasm");
  const tfjs = await liveFigures(() => loadPolicy(path.join(ROOT, "assets/checkpoints/scd-pusht")), tfjsSteps, seed0);
  const q = quantiles(onnx.ms), qt = quantiles(tfjs.ms);
  return { nodeSimStepsPerSec: sim, nodeInferP50Ms: q.p50, nodeInferP99Ms: q.p99, nodeMisses: onnx.misses, nodeSteps: onnx.total, nodeTfjsWasmInferP50Ms: qt.p50, nodeTfjsWasmInferP99Ms: qt.p99, nodeTfjsWasmChunks: tfjs.ms.length };
}
