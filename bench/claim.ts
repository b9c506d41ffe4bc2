/**
 * `npm run bench -- claim`: per-frame latency of the like-for-like arms of experiments/claim/arms.ts (same size,
 * same history 2) on tfjs and on ONNX Runtime (one thread) at K = 10, and the entangled / SCD ratios. The training
 * and evaluation half of the claim is experiments/claim/run.ts, which runs this at its end.
 */
import * as tf from "@tensorflow/tfjs";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { policyDef, parsePolicyConfig } from "../src/policies/registry.ts";
import { quantile, type BenchResult } from "./util.ts";
import { latency, layout } from "./policy.ts";
import { benchOnnx } from "./policy-onnx.ts";
import { ARMS, inferenceKey } from "../experiments/claim/arms.ts";

const K = Number(process.env.BENCH_K ?? 10);

export async function benchClaim(): Promise<BenchResult> {
  await initBackend();
  const json: Record<string, { params: number; tfjsMs: number; tfjsP99: number; onnxMs: number; onnxP99: number; onnxCpuMs: number }> = {};
  const rows: string[][] = [["arm", "parameters", "tfjs p50 / p99 ms", "ONNX Runtime p50 / p99 ms", "ONNX CPU ms/frame"]];
  // arms that differ only in training (equal wall-clock, context noise) have the same inference graph
  const seen = new Set<string>();
  for (const arm of ARMS) {
    const key = inferenceKey(arm);
    if (seen.has(key)) continue;
    seen.add(key);
    const def = policyDef(arm.policy);
    const cfg = parsePolicyConfig(def, arm.policyConfig, arm.id);
    const model = def.create(cfg, layout, 0);
    const lat = latency(model, 110);
    const o = benchOnnx(arm.policy, model, cfg, layout, K);
    json[arm.id] = { params: model.numParams(), tfjsMs: quantile(lat, 0.5), tfjsP99: quantile(lat, 0.99), onnxMs: o.latencyMs.median, onnxP99: o.latencyMs.p99, onnxCpuMs: o.cpuMsPerFrame };
    const j = json[arm.id];
    rows.push([arm.id, j.params.toLocaleString("en"), `${j.tfjsMs.toFixed(2)} / ${j.tfjsP99.toFixed(2)}`, `${j.onnxMs.toFixed(2)} / ${j.onnxP99.toFixed(2)}`, j.onnxCpuMs.toFixed(2)]);
    model.dispose();
  }
  const s = json["scd-t"], e = json.entangled;
  const ratio = { tfjs: e.tfjsMs / s.tfjsMs, onnx: e.onnxMs / s.onnxMs, onnxCpu: e.onnxCpuMs / s.onnxCpuMs, params: e.params / s.params };
  return {
    name: "claim",
    title: `same-size SCD vs entangled, history 2, K = ${K}, batch 1 latency per control frame, ${tf.getBackend()} backend`,
    rows,
    summary: `entangled / SCD per-frame latency: ${ratio.tfjs.toFixed(2)}x on tfjs, ${ratio.onnx.toFixed(2)}x on ONNX Runtime (${ratio.onnxCpu.toFixed(2)}x in CPU time); the paper: 2.9–4.6x; parameters entangled / SCD ${ratio.params.toFixed(3)}`,
    json: { ...json, ratio, K },
  };
}
