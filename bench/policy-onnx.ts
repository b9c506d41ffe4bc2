/**
 * The ONNX Runtime rows of the policy benchmark: the same model as the tfjs rows, through a real checkpoint and
 * `scd export` (graphs traced from the model's code) into a temp directory, run by onnxruntime-node on ONE thread. Per-frame latency at batch 1 (encoder
 * step + K denoising steps, warm; and with cold CPU caches: a 64 MB buffer is rewritten before each frame), and
 * batch-64 throughput. Normalization is left out, as in the tfjs rows.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { FrameLayout } from "../src/policies/frames.ts";
import { modelWeights } from "../src/policies/learned.ts";
import { writeCheckpoint } from "../src/checkpoints/checkpoint.ts";
import { exportCheckpoint, factsOf } from "../src/checkpoints/export-dir.ts";
import { loadExport } from "../src/deploy/onnx-policy.ts";
import { nodeRunner } from "../src/deploy/ort-node.ts";
import { policyDef, type ArrayModel, type PolicyModel } from "../src/policies/registry.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { Rng } from "../src/util/rng.ts";
import { quantile, timeIt } from "./util.ts";

export interface OnnxBench {
  latencyMs: { median: number; p99: number; coldMedian: number };
  /** CPU time (user + system) per warm frame: what a frame costs when other processes share the cores. */
  cpuMsPerFrame: number;
  throughputFps: number;
}

const evict = new Uint8Array(64 << 20);
function thrash(): void {
  for (let i = 0; i < evict.length; i += 64) evict[i]++;
}

function frames(m: ArrayModel, F: number, K: number, n: number, cold: boolean): number[] {
  const rng = new Rng(0);
  m.reset(1);
  const out: number[] = [];
  for (let t = 0; t < n; t++) {
    const x = rng.normals(F);
    if (cold) thrash();
    const t0 = performance.now();
    m.observe(x);
    m.sample(K, rng);
    out.push(performance.now() - t0);
  }
  return out.slice(10); // the first frames grow the cache
}

/** `without`: graphs to leave out of the runtime (e.g. scd's fused decoder_sample, to time the K-call path). */
export function benchOnnx(name: string, model: PolicyModel, config: Record<string, unknown>, layout: FrameLayout, K: number, without: string[] = []): OnnxBench {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-bench-onnx-"));
  try {
    const norms = Object.fromEntries([...layout.obsFeatures.map((f) => [f.name, f.dim] as const), ["action", layout.actionDim] as const].map(([k, d]) => [k, fitNormalizer(Float32Array.from({ length: 2 * d }, (_, i) => (i < d ? -1 : 1)), d, "minmax")]));
    // the export's default K is the bench's, so a fused sampling graph (scd's decoder_sample) is traced for it
    if ("defaultSteps" in config) config = { ...config, defaultSteps: K };
    writeCheckpoint(path.join(dir, "ck"), { format: "scd-checkpoint", version: 1, policy: name, config, layout, normalizers: norms, step: 0, numParams: model.numParams(), seed: 0, info: {} }, modelWeights(model));
    exportCheckpoint(path.join(dir, "ck"), path.join(dir, "onnx"));
    const ex = loadExport(path.join(dir, "onnx"), (b) => nodeRunner(b));
    const graphs = Object.fromEntries(Object.entries(ex.graphs).filter(([k]) => !without.includes(k)));
    const m = policyDef(name).onnx!.runtime(ex.manifest.config, factsOf(ex.manifest), layout.frameDim, graphs);
    const F = layout.frameDim;
    const c0 = process.cpuUsage();
    const warm = frames(m, F, K, 210, false);
    const c = process.cpuUsage(c0);
    const cold = frames(m, F, K, 50, true);
    const B = 64, rng = new Rng(1), x = rng.normals(B * F);
    m.reset(B);
    const t = timeIt(() => (m.observe(x), m.sample(K, rng)), 5, 2);
    ex.dispose();
    return { latencyMs: { median: quantile(warm, 0.5), p99: quantile(warm, 0.99), coldMedian: quantile(cold, 0.5) }, cpuMsPerFrame: (c.user + c.system) / 1000 / 210, throughputFps: (B * 1000) / t.median };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
