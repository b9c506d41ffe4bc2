/** Measurements the page offers its test (window.scd): runtime parity on the real simulator, simulator speed. */
import { makeEnv } from "../../src/envs/registry.ts";
import type { Runtimes } from "./runtimes.ts";

/** Max |Δ| of normalized chunks, TensorFlow.js (the current backend) vs ONNX Runtime Web, closed loop on the real Push-T from `seed`. */
export async function runtimeParity(runtimes: Runtimes, frames: number, steps: number, seed: number): Promise<number> {
  const e = await makeEnv("pusht-v1", {}, { timeLimit: false });
  let o = e.reset({ seed }).obs;
  return runtimes.parity("pusht-v1", frames, steps, (t, executed) => (t && executed ? (o = e.step(executed).obs) : o));
}

/** Simulator steps/s over `n` steps of a fresh `envId` with a fixed action sweep after 1000 warm-up steps (no policy, no drawing). */
export async function simBench(envId: string, n: number): Promise<number> {
  const e = await makeEnv(envId, {}, { timeLimit: false });
  const sweep = (i: number) => (envId === "pusht-v1" ? [256 + 100 * Math.cos(i / 20), 256 + 100 * Math.sin(i / 20)] : [Math.cos(i / 20), Math.sin(i / 20)]);
  e.reset({ seed: 0 });
  for (let i = 0; i < 1000; i++) e.step(sweep(i)); // warm-up (JIT), as the Node figure
  e.reset({ seed: 0 });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) e.step(sweep(i));
  return n / ((performance.now() - t0) / 1000);
}
