/** Train step of the probe transformer (B=8, T=32, d=64, 2 blocks) on cpu, stock wasm and patched wasm. */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { applyWasmPatches, removeWasmPatches } from "../src/backend/wasm-patches.ts";
import { quietCpuBackend } from "../src/backend/index.ts";
import { ProbeTransformer, probeBatch } from "../test/fixtures/probe-model.ts";
import { timeIt, type BenchResult } from "./util.ts";

// the size of a policy-scale transformer: batch 16 windows of 64 tokens, width 128
const B = Number(process.env.BENCH_B ?? 16), T = Number(process.env.BENCH_T ?? 64), D = Number(process.env.BENCH_D ?? 128);

async function trainStepMs(backend: "cpu" | "wasm", patchMatmul: boolean, iters: number): Promise<{ median: number; p90: number }> {
  await tf.setBackend(backend);
  await tf.ready();
  removeWasmPatches();
  if (backend === "wasm") applyWasmPatches({ matmul: patchMatmul });
  const model = new ProbeTransformer(1, 32, D, 4, 2);
  const { ids, target } = probeBatch(2, B, T);
  const opt = tf.train.adam(1e-3);
  const vars = [...model.parameters().values()];
  const step = () => {
    const loss = opt.minimize(() => model.loss(ids, target), true, vars)!;
    loss.dataSync();
    loss.dispose();
  };
  const t = timeIt(step, iters, 2);
  opt.dispose();
  model.dispose();
  tf.dispose([ids, target]);
  removeWasmPatches();
  return t;
}

export async function benchBackend(): Promise<BenchResult> {
  quietCpuBackend();
  const cpu = await trainStepMs("cpu", false, 3);
  const stock = await trainStepMs("wasm", false, 10);
  const patched = await trainStepMs("wasm", true, 20);
  return {
    name: "backend",
    title: `train step of a small transformer (B=${B}, T=${T}, d=${D}, 2 blocks, Adam)`,
    rows: [
      ["cpu", `${cpu.median.toFixed(1)} ms`, `p90 ${cpu.p90.toFixed(1)} ms`],
      ["wasm (stock matmul)", `${stock.median.toFixed(1)} ms`, `p90 ${stock.p90.toFixed(1)} ms`],
      ["wasm (patched)", `${patched.median.toFixed(1)} ms`, `p90 ${patched.p90.toFixed(1)} ms`],
    ],
    summary: `patched wasm is ${(stock.median / patched.median).toFixed(1)}x faster than stock wasm and ${(cpu.median / patched.median).toFixed(1)}x faster than cpu; stock wasm is ${(cpu.median / stock.median).toFixed(1)}x faster than cpu`,
    json: { cpuMs: cpu.median, wasmStockMs: stock.median, wasmPatchedMs: patched.median, patchedVsStock: stock.median / patched.median, patchedVsCpu: cpu.median / patched.median },
  };
}
