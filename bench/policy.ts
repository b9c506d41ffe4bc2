/**
 * SCD against the entangled baseline (and MLP-BC), side by side in one run, default configs (similar parameter
 * counts), K = 10 denoising steps: per-frame control latency at batch 1 (one observe = encoder step, plus one
 * chunk = K decoder steps), throughput at batch 64 (frames/s), and train-step time (batch 64 windows).
 */
import * as tf from "@tensorflow/tfjs";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { policyDef, type PolicyModel } from "../src/policies/registry.ts";
import { frameLayout, buildWindows } from "../src/policies/frames.ts";
import { concatEpisodes } from "../src/datasets/episodes.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { AdamW } from "../src/train/adamw.ts";
import { Rng } from "../src/util/rng.ts";
import { quantile, timeIt, type BenchResult } from "./util.ts";
import { benchOnnx } from "./policy-onnx.ts";

const K = Number(process.env.BENCH_K ?? 10);
// Push-T keypoint observations: 18 keypoint values + agent x, y; actions 2-d
export const layout = frameLayout([{ name: "observation.keypoints", dim: 18 }, { name: "observation.agent_pos", dim: 2 }], 2);

/** Per-frame latency (ms) at batch 1: one observe (encoder step) plus one K-step chunk, after 10 warm-up frames. */
export function latency(model: PolicyModel, frames: number): number[] {
  const rng = new Rng(0);
  model.reset(1);
  const out: number[] = [];
  for (let t = 0; t < frames; t++) {
    const x = tf.tensor(rng.normals(layout.frameDim), [1, layout.frameDim]);
    const t0 = performance.now();
    model.observe(x);
    const y = model.sample(K, rng);
    y.dataSync();
    out.push(performance.now() - t0);
    tf.dispose([x, y]);
  }
  return out.slice(10); // the first frames compile kernels and grow the cache
}

function throughput(model: PolicyModel, B: number, iters: number): number {
  const rng = new Rng(1);
  model.reset(B);
  const x = tf.tensor(rng.normals(B * layout.frameDim), [B, layout.frameDim]);
  const t = timeIt(() => {
    model.observe(x);
    const y = model.sample(K, rng);
    y.dataSync();
    y.dispose();
  }, iters, 2);
  x.dispose();
  return (B * 1000) / t.median;
}

function trainStep(model: PolicyModel, iters: number): number {
  const rng = new Rng(2);
  const n = 400;
  const ep = { "observation.keypoints": Float32Array.from(rng.normals(n * 18)), "observation.agent_pos": Float32Array.from(rng.normals(n * 2)), action: Float32Array.from(rng.normals(n * 2)) };
  const buf = concatEpisodes({ "observation.keypoints": { shape: [18] }, "observation.agent_pos": { shape: [2] }, action: { shape: [2] } }, [ep]);
  const norms = Object.fromEntries(Object.entries(ep).map(([k, v]) => [k, fitNormalizer(v, v.length / n, "minmax")]));
  const opt = new AdamW(model.parameters(), { lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: 1, emaDecay: 0.99 }, (p) => model.lrMult(p));
  const t = timeIt(() => {
    const b = buildWindows(buf, layout, norms, Array.from({ length: 64 }, () => rng.int(n)), model.window, model.horizon, model.positionsPerWindow, rng);
    opt.minimize(() => model.loss(b, rng));
  }, iters, 1);
  opt.dispose();
  return t.median;
}

export async function benchPolicy(): Promise<BenchResult> {
  await initBackend();
  const names = (process.env.BENCH_POLICIES ?? "scd,entangled-diffusion,mlp-bc").split(",");
  const json: Record<string, unknown> = {};
  const rows: string[][] = [];
  for (const name of names) {
    const def = policyDef(name);
    // the training configuration of the README runs (2 positions × 2 noise draws per window)
    const over = name === "scd" ? { positionsPerWindow: 2, decoderDraws: 2 } : name === "entangled-diffusion" ? { positionsPerWindow: 2, draws: 2 } : {};
    const model = def.create(def.configSchema.parse(over), layout, 0);
    const lat = latency(model, 110);
    const fps = throughput(model, 64, 5);
    const step = process.env.BENCH_SKIP_TRAIN ? NaN : trainStep(model, 3);
    const key = name === "entangled-diffusion" ? "entangled" : name === "mlp-bc" ? "mlpBc" : "scd";
    json[key] = { params: model.numParams(), latencyMs: { median: quantile(lat, 0.5), p99: quantile(lat, 0.99) }, throughputFps: fps, trainStepMs: step, steps: name === "mlp-bc" ? 1 : K };
    rows.push([name, `${model.numParams().toLocaleString("en")} params`, `latency p50 ${quantile(lat, 0.5).toFixed(2)} ms, p99 ${quantile(lat, 0.99).toFixed(2)} ms`, `${fps.toFixed(0)} frames/s @ batch 64`, `train step ${step.toFixed(0)} ms`]);
    if (name !== "mlp-bc" && !process.env.BENCH_SKIP_ONNX) {
      // the same weights exported to ONNX, on onnxruntime-node with one thread
      const o = benchOnnx(name, model, def.configSchema.parse(over) as Record<string, unknown>, layout, K);
      json[`${key}Onnx`] = { params: model.numParams(), ...o, steps: K };
      rows.push([`${name} (onnx)`, `${model.numParams().toLocaleString("en")} params`, `latency p50 ${o.latencyMs.median.toFixed(2)} ms, p99 ${o.latencyMs.p99.toFixed(2)} ms, cold-cache p50 ${o.latencyMs.coldMedian.toFixed(2)} ms, CPU ${o.cpuMsPerFrame.toFixed(2)} ms/frame`, `${o.throughputFps.toFixed(0)} frames/s @ batch 64`, "(1 thread)"]);
      if (name === "scd") {
        // the same export driven call by call (decoder_condition + K × decoder_denoise): what the fused graph saves
        const p = benchOnnx(name, model, def.configSchema.parse(over) as Record<string, unknown>, layout, K, ["decoder_sample"]);
        json.scdOnnxPerStep = { params: model.numParams(), ...p, steps: K };
        rows.push([`${name} (onnx, K + 1 calls per chunk)`, "", `latency p50 ${p.latencyMs.median.toFixed(2)} ms, p99 ${p.latencyMs.p99.toFixed(2)} ms, cold-cache p50 ${p.latencyMs.coldMedian.toFixed(2)} ms, CPU ${p.cpuMsPerFrame.toFixed(2)} ms/frame`, `${p.throughputFps.toFixed(0)} frames/s @ batch 64`, `fused/per-call ${(o.latencyMs.median / p.latencyMs.median).toFixed(2)}x`]);
      }
    }
    model.dispose();
  }
  const s = json.scd as { latencyMs: { median: number }; throughputFps: number } | undefined, e = json.entangled as { latencyMs: { median: number }; throughputFps: number } | undefined;
  if (!s || !e) return { name: "policy", title: `policy speed, K = ${K}`, rows, summary: "(SCD and the entangled baseline are compared when both run)", json };
  const ratio = e.latencyMs.median / s.latencyMs.median;
  json.ratio = { latency: ratio, throughput: s.throughputFps / e.throughputFps };
  const so = json.scdOnnx as typeof s | undefined, eo = json.entangledOnnx as typeof s | undefined;
  const onnx = so && eo ? `; ONNX Runtime: SCD ${so.latencyMs.median.toFixed(2)} ms (goal ≤ 1 ms), ${(eo.latencyMs.median / so.latencyMs.median).toFixed(1)}x lower than entangled (goal ≥ 4x), ${(s.latencyMs.median / so.latencyMs.median).toFixed(1)}x faster than tfjs` : "";
  if (so && eo) json.ratioOnnx = { latency: eo.latencyMs.median / so.latencyMs.median, throughput: so.throughputFps / eo.throughputFps, scdOverTfjs: s.latencyMs.median / so.latencyMs.median };
  return {
    name: "policy",
    title: `policy speed, K = ${K} denoising steps, batch 1 latency per control frame (encoder step + chunk), ${tf.getBackend()} backend`,
    rows,
    summary: `SCD per-frame latency is ${ratio.toFixed(1)}x lower than the entangled baseline (goal ≥ 4x); SCD ${s.latencyMs.median.toFixed(2)} ms (goal ≤ 3 ms); throughput ${(s.throughputFps / e.throughputFps).toFixed(1)}x${onnx}`,
    json,
  };
}
