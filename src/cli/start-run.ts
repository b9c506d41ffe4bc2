/**
 * `npm start`'s working parts: a training schedule sized to the time left (so warm-up and cosine decay both
 * happen inside the budget), the evaluation runtime (ONNX Runtime when it is installed: the same aggregate as
 * TensorFlow.js on the test seeds at a fraction of the time), and what a checkpoint's metadata may show a reader.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { TrainConfig } from "../train/config.ts";
import { prepareTrainData, TrainSession } from "../train/session.ts";
import { loadDataset } from "../datasets/load.ts";
import { policyDef, parsePolicyConfig } from "../policies/registry.ts";
import type { ChunkPolicy } from "../policies/types.ts";
import { loadPolicy } from "../checkpoints/load-checkpoint.ts";
import { exportCheckpoint } from "../checkpoints/export-dir.ts";

/**
 * Training steps per second of `cfg` here and now: a few steps of a throw-away session after two warm-up steps
 * (kernel compilation). Returns the rate and the seconds the probe took.
 */
export async function measureStepRate(cfg: TrainConfig, maxSteps = 8, maxSeconds = 12): Promise<{ stepsPerSec: number; seconds: number }> {
  const t0 = performance.now();
  const def = policyDef(cfg.policy);
  const policyConfig = parsePolicyConfig(def, cfg.policyConfig, "policyConfig");
  const data = prepareTrainData((await loadDataset(cfg.dataset)).buffer, cfg, def, policyConfig, cfg.dataset);
  const s = new TrainSession(def, policyConfig, data, cfg);
  try {
    s.trainStep();
    s.trainStep();
    const t1 = performance.now();
    let n = 0;
    while (n < maxSteps && (n < 2 || performance.now() - t1 < maxSeconds * 1000)) {
      s.trainStep();
      n++;
    }
    return { stepsPerSec: n / ((performance.now() - t1) / 1000), seconds: (performance.now() - t0) / 1000 };
  } finally {
    s.dispose();
  }
}

/**
 * The recipe's schedule scaled to `seconds` of training at `stepsPerSec`: as many steps as fit (less a margin for
 * validation, checkpoints and the rate's drift: 15 %), warm-up the recipe's share of them, capped by `cap` (--steps).
 */
export function sizedSchedule(recipe: Pick<TrainConfig, "steps" | "warmup">, seconds: number, stepsPerSec: number, cap?: number): { steps: number; warmup: number } {
  const fit = Math.max(10, Math.floor(seconds * stepsPerSec * 0.85)); // the rate drifts as the run and the machine warm
  const steps = Math.min(fit, cap ?? Infinity);
  return { steps, warmup: Math.max(1, Math.round((steps * recipe.warmup) / recipe.steps)) };
}

export type EvalRuntime = "onnx" | "tfjs";

/** A factory of policies for `ckpt` on `runtime` (onnx: exported once into `exportDir`). */
export async function policyOn(ckpt: string, runtime: EvalRuntime, exportDir: string): Promise<() => Promise<ChunkPolicy>> {
  if (runtime === "tfjs") return async () => loadPolicy(ckpt);
  exportCheckpoint(ckpt, exportDir, { force: fs.existsSync(path.join(exportDir, "manifest.json")) });
  const { loadExportPolicy } = await import("../checkpoints/load-export.ts");
  return loadExportPolicy(exportDir);
}

/** Whether onnxruntime-node loads here (an optional peer dependency): the evaluation runtime's default. */
export async function onnxAvailable(): Promise<boolean> {
  try {
    (await import("../deploy/ort-node.ts")).ortNodeBinding();
    return true;
  } catch {
    return false;
  }
}

/**
 * What a report shows of a checkpoint's `info.machine`: the machine kind only. Older checkpoints carried working
 * notes after it (process priority, what else ran); the first clause is the kind, and a priority note is dropped.
 */
export function machineLabel(machine: unknown): string | null {
  if (typeof machine !== "string" || !machine.trim()) return null;
  const kind = machine.split(";")[0].split(",").map((s) => s.trim()).filter((s) => s && !/^nice\b/i.test(s));
  return kind.join(", ") || null;
}

/** A path as checkpoint metadata stores it: relative to the working directory (never an absolute path of this machine). */
export function portablePath(p: string): string {
  return path.isAbsolute(p) ? path.relative(process.cwd(), p) || "." : p;
}

/**
 * The episodes to re-run as GIFs: the best-scoring ones and, when there are failures, the worst ones too, so the
 * report shows what failure looks like beside success (`n` in all; ties to the earlier seed).
 */
export function gifEpisodes<T extends { seed: number; max_reward: number; success: boolean }>(eps: T[], n: number): { ep: T; kind: "best" | "failure" }[] {
  const fails = eps.filter((e) => !e.success).sort((a, b) => a.max_reward - b.max_reward || a.seed - b.seed);
  const nFail = n >= 2 && fails.length ? Math.max(1, Math.floor(n / 3)) : 0;
  const worst = fails.slice(0, nFail);
  const best = [...eps].filter((e) => !worst.includes(e)).sort((a, b) => b.max_reward - a.max_reward || a.seed - b.seed).slice(0, n - worst.length);
  return [...best.map((ep) => ({ ep, kind: "best" as const })), ...worst.map((ep) => ({ ep, kind: "failure" as const }))];
}
