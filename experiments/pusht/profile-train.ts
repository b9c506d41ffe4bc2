/**
 * Where a training step's time goes, by kernel: `npx tsx experiments/pusht/profile-train.ts [policy] [batch]` profiles one
 * step of `scd train`'s default config (tf.profile: per-kernel wall time on the current backend) and prints the
 * kernels by total time, the matmul share of the step and the matmul FLOP rate (2·M·N·K per product, Σ over
 * batch), so a speed claim can be judged against what the matmuls alone already cost.
 */
import * as tf from "@tensorflow/tfjs";
import "../../src/policies/index.ts";
import { initBackend } from "../../src/backend/index.ts";
import { policyDef } from "../../src/policies/registry.ts";
import { layoutFromBuffer, buildWindows } from "../../src/policies/frames.ts";
import { loadDataset } from "../../src/datasets/load.ts";
import { withFeatures } from "../../src/datasets/derive.ts";
import { fitNormalizer } from "../../src/datasets/normalizer.ts";
import { AdamW } from "../../src/train/adamw.ts";
import { Rng } from "../../src/util/rng.ts";

const name = process.argv[2] ?? "scd", B = Number(process.argv[3] ?? 64);
const rep = await initBackend();
const obs = ["observation.keypoints", "observation.agent_pos"];
const buf = withFeatures((await loadDataset(new URL("../../assets/datasets/pusht/pusht_human.scdd", import.meta.url).pathname)).buffer, obs);
const layout = layoutFromBuffer(buf, obs);
const n = buf.episodeEnds[buf.episodeEnds.length - 1];
const norms = Object.fromEntries([...obs, "action"].map((k) => [k, fitNormalizer(buf.data[k] as Float32Array, buf.schema[k].shape.reduce((a, b) => a * b, 1), "minmax")]));
const def = policyDef(name);
const cfg = def.configSchema.parse({});
const model = def.create(cfg, layout, 0);
const opt = new AdamW(model.parameters(), { lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: 1, emaDecay: 0.99 }, (p) => model.lrMult(p));
const rng = new Rng(1);
const step = () => {
  const b = buildWindows(buf, layout, norms, Array.from({ length: B }, () => rng.int(n)), model.window, model.horizon, model.positionsPerWindow, rng);
  opt.minimize(() => model.loss(b, rng));
};
step();
step();
const times: number[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  step();
  times.push(performance.now() - t0);
}
const info = await tf.profile(() => step());
const agg = new Map<string, { ms: number; n: number }>();
let kernelMs = 0, mmMs = 0, mmFlop = 0;
for (const k of info.kernels) {
  if (k.name.endsWith("__op")) continue; // an op scope around a kernel (e.g. fusedMatMul__op): its time is the kernel's
  const ms = k.kernelTimeMs as number;
  const a = agg.get(k.name) ?? { ms: 0, n: 0 };
  a.ms += ms;
  a.n++;
  agg.set(k.name, a);
  kernelMs += ms;
  if (k.name === "BatchMatMul" || k.name === "_FusedMatMul") {
    const sa = (k.inputShapes as number[][])[0];
    const o = k.outputShapes[0] as number[];
    const batch = o.slice(0, -2).reduce((p, x) => p * x, 1);
    const M = o[o.length - 2], K = (sa[sa.length - 1] * sa[sa.length - 2]) / M; // a is [.., M, K] or [.., K, M]
    mmFlop += 2 * batch * M * o[o.length - 1] * K;
    mmMs += ms;
  }
}
// the backend's own matmul rate on a typical shape of this step ([512, 256] × [256, 1024]), same process, same load
const ma = tf.randomNormal([512, 256]), mb = tf.randomNormal([256, 1024]);
tf.dispose(tf.matMul(ma, mb));
const tm = performance.now();
for (let i = 0; i < 20; i++) tf.matMul(ma, mb).dataSync();
const peak = (20 * 2 * 512 * 256 * 1024) / 1e6 / (performance.now() - tm);
tf.dispose([ma, mb]);
const med = [...times].sort((a, b) => a - b)[1];
console.log(`${name} batch ${B} on ${rep.backend}: ${med.toFixed(0)} ms/step (median of 3), ${info.kernels.length} kernels, ${kernelMs.toFixed(0)} ms in kernels (profiled step)`);
console.log(`matmul: ${mmMs.toFixed(0)} ms = ${((100 * mmMs) / kernelMs).toFixed(0)} % of kernel time, ${(mmFlop / 1e9).toFixed(2)} GFLOP at ${(mmFlop / 1e6 / mmMs).toFixed(1)} GFLOP/s; a plain 512×256×1024 matmul here: ${peak.toFixed(1)} GFLOP/s`);
for (const [k, v] of [...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) console.log(`  ${k.padEnd(22)} ${v.ms.toFixed(1).padStart(8)} ms ${String(v.n).padStart(6)} calls`);
