/**
 * How well does a pixel policy's image encoder see the T? A probe on its per-frame features: for each checkpoint of a
 * pixel run (and a freshly initialised encoder), the image encoder runs on recorded frames of Diffusion Policy's
 * Push-T store (centre crop, the policy's own image normalizer) and a probe regresses the block pose (x, y in arena
 * pixels of 512; angle in degrees) from its spatial-softmax keypoints [2·keypoints]. Probes: ridge regression
 * (closed form) and a 2-layer MLP (tfjs, Adam), fitted on episodes 0–179 and scored on 180–205 (unseen episodes; held-out.ts).
 * The scale to read them by: how far the block may sit from the goal and still count as a success (coverage > 0.95,
 * src/envs/pusht/geometry.ts), in translation alone and rotation alone.
 *
 *   npx tsx experiments/pixels/probe.ts <run dir> [--every 500] [--stride 8] [--out experiments/pixels/results/probe] [--replot]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/index.ts";
import { normalize } from "../../src/datasets/normalizer.ts";
import "../../src/policies/index.ts"; // registers the policies loadPolicy reads
import { loadPolicy } from "../../src/checkpoints/load-checkpoint.ts";
import { readCheckpointMeta } from "../../src/checkpoints/checkpoint.ts";
import { ImageEncoder, centerCrop } from "../../src/nn/image-encoder.ts";
import { tfOps } from "../../src/nn/tf-ops.ts";
import { coverage, GOAL_POSE } from "../../src/envs/pusht/geometry.ts";
import { plotSeries } from "../../src/util/chart.ts";
import { Rng } from "../../src/util/rng.ts";
import type { ScdModel } from "../../src/policies/scd/model.ts";
import { loadPushTFrames, nearGoal, lowerQuantile as q } from "./held-out.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { values: opts, positionals } = parseArgs({ options: { every: { type: "string", default: "500" }, stride: { type: "string", default: "8" }, replot: { type: "boolean", default: false }, out: { type: "string", default: path.join(ROOT, "experiments/pixels/results/probe") } }, allowPositionals: true });
const run = positionals[0];
if (!run) {
  process.stderr.write("usage: npx tsx experiments/pixels/probe.ts <run dir> [--every 500] [--stride 8] [--out dir] [--replot]\n");
  process.exit(2);
}
const every = Number(opts.every), stride = Number(opts.stride);
const out = path.resolve(opts.out);

/** Largest offset (px, or degrees) in one direction that keeps coverage above 0.95 at the goal, by bisection. */
function tolerance(move: (d: number) => [number, number, number], hi: number): number {
  let lo = 0;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (coverage(...move(mid)) > 0.95) lo = mid;
    else hi = mid;
  }
  return lo;
}
const [gx, gy, ga] = GOAL_POSE;
const tolPx = Math.min(tolerance((d) => [gx + d, gy, ga], 100), tolerance((d) => [gx, gy + d, ga], 100));
const tolDeg = tolerance((d) => [gx, gy, ga + (d * Math.PI) / 180], 90);

type Row = { step: number; minutes: number; probe: "ridge" | "mlp" } & ReturnType<typeof errors>;
/** probe.png: the MLP probe's median errors (all unseen frames, and near the goal) against training minutes, with the success tolerance. */
function plot(r: { rows: Row[]; successTolerance: { translationPx: number; rotationDeg: number } }): void {
  const mlp = r.rows.filter((x) => x.probe === "mlp"), T = r.successTolerance, end = Math.max(1, ...r.rows.map((x) => x.minutes));
  const line = (key: "posMedian" | "angMedian" | "nearPosMedian" | "nearAngMedian") => mlp.map((x) => [x.minutes, x[key]] as [number, number]);
  plotSeries(path.join(out, "probe.png"), [
    { label: "block position error, all frames (median px)", points: line("posMedian"), line: true },
    { label: "block angle error, all frames (median deg)", points: line("angMedian"), line: true },
    { label: "block position error, near the goal (median px)", points: line("nearPosMedian"), line: true },
    { label: "block angle error, near the goal (median deg)", points: line("nearAngMedian"), line: true },
    { label: `success tolerance at the goal: ${T.translationPx.toFixed(1)} px alone / ${T.rotationDeg.toFixed(1)} deg alone`, points: [[0, T.translationPx], [end, T.translationPx]], line: true, color: "#999999" },
  ], { title: "Push-T from pixels: block pose read from the encoder's keypoints by an MLP probe (unseen episodes)", xLabel: "training minutes (0 = fresh encoder)", yLabel: "error (px of 512, or degrees)", yMin: 0 });
}
if (opts.replot) {
  plot(JSON.parse(fs.readFileSync(path.join(out, "probe.json"), "utf8")));
  process.exit(0);
}

await initBackend();
const { frames, state, trainSteps: trainIdx, testSteps: testIdx } = await loadPushTFrames(stride);
/** Targets [n, 4]: block x, y (px), cos, sin of its angle. */
const target = (s: number) => [state[s * 5 + 2], state[s * 5 + 3], Math.cos(state[s * 5 + 4]), Math.sin(state[s * 5 + 4])];

/** The encoder's keypoints for the given steps, [n, 2·keypoints], batch by batch. */
function keypoints(enc: ImageEncoder, norm: Parameters<typeof normalize>[0], crop: number, idx: number[]): Float32Array {
  const [H, W] = frames.shape, parts: Float32Array[] = [];
  for (let i = 0; i < idx.length; i += 64) {
    const b = idx.slice(i, i + 64), x = new Float32Array(b.length * H * W * 3);
    b.forEach((s, j) => x.set(normalize(norm, Float32Array.from(frames.frame(s))), j * H * W * 3));
    parts.push(tf.tidy(() => {
      return enc.keypoints(tfOps, centerCrop(tf.tensor(x, [b.length, H, W, 3]), crop)).dataSync() as Float32Array;
    }));
  }
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (all.set(p, o), (o += p.length));
  return all;
}

/**
 * Pose errors of predictions [n, 4] against the targets: median and 90th percentile of |Δpos| (px) and |Δangle|
 * (deg) over all test frames, and the medians over the frames near the goal (coverage > 0.5, where an episode is
 * won or lost by the last few pixels).
 */
function errors(pred: Float32Array, idx: number[]) {
  const dp: number[] = [], da: number[] = [], near: boolean[] = [];
  idx.forEach((s, i) => {
    const [x, y, c, si] = target(s);
    dp.push(Math.hypot(pred[i * 4] - x, pred[i * 4 + 1] - y));
    const d = Math.atan2(pred[i * 4 + 3], pred[i * 4 + 2]) - Math.atan2(si, c);
    da.push((Math.abs(Math.atan2(Math.sin(d), Math.cos(d))) * 180) / Math.PI);
    near.push(nearGoal(state, s));
  });
  const nearOnly = (v: number[]) => v.filter((_, i) => near[i]);
  return { posMedian: q(dp, 0.5), posP90: q(dp, 0.9), angMedian: q(da, 0.5), angP90: q(da, 0.9), nearFrames: nearOnly(dp).length, nearPosMedian: q(nearOnly(dp), 0.5), nearAngMedian: q(nearOnly(da), 0.5) };
}

/** Fit a probe on the train features and predict the test ones: "ridge" (λ = 1e-3·n) or "mlp" (2 × 256 ReLU, Adam 1e-3, 2000 steps of 256). */
function probe(kind: "ridge" | "mlp", Xtr: Float32Array, Xte: Float32Array, d: number): Float32Array {
  const ytr = tf.tensor(trainIdx.flatMap(target), [trainIdx.length, 4]);
  const xtr = tf.tensor(Xtr, [trainIdx.length, d]), xte = tf.tensor(Xte, [testIdx.length, d]);
  const mu = xtr.mean(0), sd = xtr.sub(mu).square().mean(0).sqrt().add(1e-6);
  const ymu = ytr.mean(0), ysd = ytr.sub(ymu).square().mean(0).sqrt().add(1e-6);
  const z = (x: tf.Tensor) => x.sub(mu).div(sd), Y = ytr.sub(ymu).div(ysd);
  let pred: tf.Tensor;
  if (kind === "ridge") {
    const A = tf.concat([z(xtr), tf.ones([trainIdx.length, 1])], 1);
    // the normal equations, (d+1)² (d ≤ 128): Gauss–Jordan in plain numbers
    const M = tf.matMul(A, A, true).add(tf.eye(d + 1).mul(1e-3 * trainIdx.length)).arraySync() as number[][];
    const B = tf.matMul(A, Y, true).arraySync() as number[][];
    const W = solve(M, B);
    pred = tf.matMul(tf.concat([z(xte), tf.ones([testIdx.length, 1])], 1), tf.tensor(W));
  } else {
    const l1 = tf.layers.dense({ units: 256, activation: "relu", inputShape: [d] }), l2 = tf.layers.dense({ units: 256, activation: "relu" }), l3 = tf.layers.dense({ units: 4 });
    const m = tf.sequential({ layers: [l1, l2, l3] }), opt = tf.train.adam(1e-3), X = z(xtr), rng = new Rng(0);
    for (let i = 0; i < 2000; i++) {
      const b = tf.tensor1d(Array.from({ length: 256 }, () => rng.int(trainIdx.length)), "int32");
      opt.minimize(() => tf.losses.meanSquaredError(Y.gather(b), m.apply(X.gather(b)) as tf.Tensor) as tf.Scalar);
      b.dispose();
    }
    pred = m.predict(z(xte)) as tf.Tensor;
    const y = pred.mul(ysd).add(ymu).dataSync() as Float32Array;
    m.dispose(); // its weights are variables, which the caller's tidy keeps
    opt.dispose();
    return y;
  }
  return pred.mul(ysd).add(ymu).dataSync() as Float32Array;
}

/** Solve M W = B for square M by Gauss–Jordan with partial pivoting; M [n, n], B [n, k] → W [n, k]. */
function solve(M: number[][], B: number[][]): number[][] {
  const n = M.length, a = M.map((r, i) => [...r, ...B[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let k = c; k < a[r].length; k++) a[r][k] -= f * a[c][k];
    }
  }
  return a.map((r, i) => r.slice(n).map((v) => v / a[i][i]));
}

const rows: Row[] = [];
const ckRoot = path.join(run, "checkpoints");
const ckSteps = fs.readdirSync(ckRoot).filter((n) => /^\d{9}$/.test(n)).map(Number).sort((a, b) => a - b);
const last = ckSteps.at(-1)!;
const picked: (number | null)[] = [null, ...ckSteps.filter((s) => s % every === 0 || s === last)];
for (const step of picked) {
  const dir = path.join(ckRoot, String(step ?? last).padStart(9, "0"));
  const p = loadPolicy(dir), m = p.model as unknown as ScdModel, norm = p.norms["observation.image"], crop = m.image!.crop;
  // step null: a fresh encoder of the same shape, what the features hold before any training
  const enc = step === null ? new ImageEncoder(m.imageEncoders[0].cfg, 12345) : m.imageEncoders[0];
  const minutes = step === null ? 0 : (readCheckpointMeta(dir).info.trainSeconds as number) / 60;
  const t0 = Date.now();
  const Xtr = keypoints(enc, norm, crop, trainIdx), Xte = keypoints(enc, norm, crop, testIdx), d = Xtr.length / trainIdx.length;
  for (const kind of ["ridge", "mlp"] as const) {
    const e = tf.tidy(() => errors(probe(kind, Xtr, Xte, d), testIdx));
    rows.push({ step: step ?? 0, minutes, probe: kind, ...e });
    console.log(`${step === null ? "init" : `step ${step}`}\t${minutes.toFixed(1)} min\t${kind}\tpos ${e.posMedian.toFixed(1)} / ${e.posP90.toFixed(1)} px\tangle ${e.angMedian.toFixed(1)} / ${e.angP90.toFixed(1)} deg (median / p90); near the goal (${e.nearFrames}) ${e.nearPosMedian.toFixed(1)} px, ${e.nearAngMedian.toFixed(1)} deg\t${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  if (step === null) enc.dispose();
  p.dispose();
}
fs.mkdirSync(out, { recursive: true });
const result = { run, stride, trainFrames: trainIdx.length, testFrames: testIdx.length, successTolerance: { translationPx: tolPx, rotationDeg: tolDeg }, rows };
fs.writeFileSync(path.join(out, "probe.json"), JSON.stringify(result, null, 2) + "\n");
plot(result);
console.log(`success tolerance at the goal: ${tolPx.toFixed(2)} px (translation alone), ${tolDeg.toFixed(2)} deg (rotation alone)`);
