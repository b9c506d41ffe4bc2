/**
 * Training-step speed of every registered policy at the configuration `scd train` uses by default (the policy's
 * default config, batch 64, on the shipped Push-T demonstrations): ms per step with the speed fixes
 * (src/backend/fast-paths.ts) and without them ("stock"), timed interleaved in one run so machine load hits both
 * alike, and chunk targets per second (distinct (context, chunk) pairs trained per second: batch × positions).
 * `heapMB`: the wasm heap after the policy (it never shrinks: the high-water mark of every step so far).
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { setFastPaths } from "../src/backend/fast-paths.ts";
import { wasmHeapBytes } from "../src/backend/memory.ts";
import { policyDef, policyNames, type PolicyModel } from "../src/policies/registry.ts";
import { layoutFromBuffer, buildWindows } from "../src/policies/frames.ts";
import { loadDataset } from "../src/datasets/load.ts";
import { withFeatures } from "../src/datasets/derive.ts";
import { fitNormalizer } from "../src/datasets/normalizer.ts";
import { TrainConfig } from "../src/train/config.ts";
import { AdamW } from "../src/train/adamw.ts";
import { Rng } from "../src/util/rng.ts";
import { quantile, type BenchResult } from "./util.ts";

const DATA = path.join(import.meta.dirname, "../assets/datasets/pusht/pusht_human.scdd");
const ITERS = Number(process.env.BENCH_TRAIN_ITERS ?? 5);

export async function benchTrain(): Promise<BenchResult> {
  await initBackend();
  const defaults = TrainConfig.parse({ dataset: DATA, out: "-" });
  const obs = ["observation.keypoints", "observation.agent_pos"];
  const buf = withFeatures((await loadDataset(DATA)).buffer, obs);
  const n = buf.episodeEnds[buf.episodeEnds.length - 1];
  const norms = Object.fromEntries([...obs, "action"].map((k) => [k, fitNormalizer(buf.data[k] as Float32Array, buf.schema[k].shape.reduce((a, b) => a * b, 1), "minmax")]));
  const names = (process.env.BENCH_POLICIES ?? policyNames().join(",")).split(",");
  const json: Record<string, unknown> = {}, rows: string[][] = [];
  for (const name of names) {
    const def = policyDef(name);
    const cfg = def.configSchema.parse({});
    const layout = layoutFromBuffer(buf, obs, def.frameOptions?.(cfg)); // what `scd train` builds for this config
    const make = (fast: boolean) => {
      setFastPaths(fast);
      const model: PolicyModel = def.create(cfg, layout, 0);
      const opt = new AdamW(model.parameters(), { lr: defaults.lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: defaults.weightDecay, clip: defaults.clip, emaDecay: defaults.emaDecay }, (p) => model.lrMult(p));
      return { model, opt, rng: new Rng(3), fast };
    };
    const runs = [make(false), make(true)];
    const times: number[][] = [[], []];
    const B = defaults.batch, P = runs[1].model.positionsPerWindow, params = runs[1].model.numParams();
    try {
      for (let i = 0; i <= ITERS; i++)
        runs.forEach((r, j) => {
          setFastPaths(r.fast);
          const anchors = Array.from({ length: B }, () => r.rng.int(n));
          const t0 = performance.now();
          const b = buildWindows(buf, layout, norms, anchors, r.model.window, r.model.horizon, r.model.positionsPerWindow, r.rng);
          r.opt.minimize(() => r.model.loss(b, r.rng));
          if (i > 0) times[j].push(performance.now() - t0); // the first step compiles kernels
        });
    } catch (e) {
      // one policy's failure (e.g. the wasm heap running out) is reported, not fatal to the other rows
      const reason = String((e as Error).message ?? e).split("\n")[0].slice(0, 200);
      json[name] = { error: reason };
      rows.push([name, `failed: ${reason}`]);
      continue;
    } finally {
      setFastPaths(true);
      for (const r of runs) {
        r.opt.dispose();
        r.model.dispose();
      }
    }
    const [stock, fixed] = times.map((t) => quantile(t, 0.5));
    // the same keys as the policy benchmark (entangled-diffusion is "entangled" there)
    const key = name === "entangled-diffusion" ? "entangled" : name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    const heap = wasmHeapBytes();
    json[key] = { msPerStep: fixed, msPerStepStock: stock, speedup: stock / fixed, chunkTargetsPerSec: (B * P * 1000) / fixed, batch: B, positionsPerWindow: P, params, heapMB: heap === null ? null : Math.round(heap / 2 ** 20) };
    rows.push([name, `${params.toLocaleString("en")} params`, `batch ${B} × ${P} positions`, `stock ${stock.toFixed(0)} ms`, `fixed ${fixed.toFixed(0)} ms`, `${(stock / fixed).toFixed(2)}x`, `${((B * P * 1000) / fixed).toFixed(0)} chunk targets/s`]);
  }
  const scd = json.scd as { speedup: number } | undefined;
  return {
    name: "train",
    title: `train step (median of ${ITERS}, stock and fixed interleaved), ${tf.getBackend()} backend`,
    rows,
    summary: scd ? `SCD train step ${scd.speedup.toFixed(2)}x faster with the fixes than stock (goal ≥ 2x)` : "(SCD not benchmarked)",
    json,
  };
}
