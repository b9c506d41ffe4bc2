/**
 * The seed paper's probe, on robot trajectories. SCD is motivated by two regularities measured in video diffusers
 * (Bai et al. 2026, "Causality in Video Diffusers is Separable from Denoising", §3): (1) early and middle layers
 * compute nearly the same features at every denoising step; (2) deep layers attend mostly within the current frame.
 * This measures both on a trained ENTANGLED causal diffusion checkpoint, over real Push-T histories:
 *
 *   npx tsx experiments/claim/probe.ts <entangled checkpoint> [--n 64] [--steps 10] [--out experiments/claim/results/probe]
 *
 * Per layer: the cosine similarity of the chunk tokens' input features at each denoising step with those at the
 * last step (mean and minimum over steps), and the share of attention mass the chunk tokens put on earlier frames,
 * on the current frame and on their own chunk. Writes probe.json and probe.png.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import "../../src/policies/index.ts";
import "../../src/datasets/index.ts";
import { initBackend } from "../../src/backend/index.ts";
import { loadPolicy } from "../../src/checkpoints/load-checkpoint.ts";
import { loadDataset } from "../../src/datasets/load.ts";
import { withFeatures } from "../../src/datasets/derive.ts";
import { frameFromObs } from "../../src/policies/frames.ts";
import { Rng } from "../../src/util/rng.ts";
import { plotSeries } from "../../src/util/chart.ts";
import type { EntangledDiffusionModel, BlockHook } from "../../src/policies/entangled-diffusion/model.ts";
import { policyDef } from "../../src/policies/registry.ts";

const args = process.argv.slice(2);
const opt = (n: string, d: string) => (args.indexOf(`--${n}`) >= 0 ? args[args.indexOf(`--${n}`) + 1] : d);
const ckpt = args[0];
if (!ckpt || ckpt.startsWith("--")) throw new Error("usage: probe.ts <entangled checkpoint> [--n 64] [--steps 10] [--out dir]");
const N = Number(opt("n", "64")), K = Number(opt("steps", "10")), out = opt("out", "experiments/claim/results/probe");

await initBackend("wasm");
const policy = loadPolicy(ckpt, N);
if (policyDef(policy.name).name !== "entangled-diffusion") throw new Error(`${ckpt}: an entangled-diffusion checkpoint is needed, got ${policy.name}`);
const model = policy.model as EntangledDiffusionModel;
const { layout, norms } = policy;
const history = model.cfg.history;

// N real histories: random steps of the demonstrations with `history` frames before them in the same episode
const buf = withFeatures((await loadDataset(path.join(import.meta.dirname, "../../assets/datasets/pusht/pusht_human.scdd"))).buffer, layout.obsFeatures.map((f) => f.name));
const rng = new Rng(0), ends = Array.from(buf.episodeEnds);
const anchors: number[] = [];
while (anchors.length < N) {
  const t = rng.int(ends.at(-1)!), k = ends.findIndex((e) => e > t), start = k ? ends[k - 1] : 0;
  if (t - start >= history - 1) anchors.push(t);
}
const frameAt = (t: number) => {
  const obs = Object.fromEntries(layout.obsFeatures.map((f) => [f.name, buf.data[f.name].subarray(t * f.dim, (t + 1) * f.dim) as Float32Array]));
  const prev = t > 0 ? (buf.data.action.subarray((t - 1) * layout.actionDim, t * layout.actionDim) as Float32Array) : new Float32Array(layout.actionDim);
  return frameFromObs(layout, norms, obs, prev, new Float32Array(layout.frameDim));
};
model.reset();
for (let j = history - 1; j >= 0; j--) {
  const x = new Float32Array(N * layout.frameDim);
  anchors.forEach((t, i) => x.set(frameAt(t - j), i * layout.frameDim));
  const xt = tf.tensor(x, [N, layout.frameDim]);
  model.observe(xt);
  xt.dispose();
}

// the hook: features per (step, layer) and attention shares per layer, summed over steps
const L = model.trunk.blocks.length, heads = model.cfg.heads, dh = model.cfg.dModel / heads;
const feats: Float32Array[][] = Array.from({ length: L }, () => []);
const share = Array.from({ length: L }, () => ({ earlier: 0, current: 0, chunk: 0 }));
const hook: BlockHook = (i, input, mask, blk) => {
  feats[i].push(input.dataSync().slice() as Float32Array);
  tf.tidy(() => {
    const [n, H] = input.shape as number[];
    const y = blk.attn.qkv.forward(blk.ln1.forward(input)).reshape([n, H, 3, heads, dh]).transpose([2, 0, 3, 1, 4]);
    const [q, kOwn] = tf.unstack(y).slice(0, 2);
    const past = model.trunk.cached(i)!.k; // [n, heads, S, dh]
    const keys = tf.concat([past, kOwn], 2);
    const p = tf.softmax(tf.matMul(q, keys, false, true).mul(1 / Math.sqrt(dh)).add(mask), -1); // [n, heads, H, S + H]
    const S = past.shape[2]!;
    const mass = p.sum([0, 1, 2]).dataSync(), total = n * heads * H;
    for (let k = 0; k < S + H; k++) {
      const m = mass[k] / total / K;
      if (k < S - 1) share[i].earlier += m;
      else if (k === S - 1) share[i].current += m;
      else share[i].chunk += m;
    }
  });
};
tf.tidy(() => void model.sample(K, new Rng(1), undefined, hook).dataSync());

const cos = (a: Float32Array, b: Float32Array, d: number) => {
  let s = 0;
  for (let r = 0; r < a.length / d; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let j = r * d; j < (r + 1) * d; j++) (ab += a[j] * b[j]), (aa += a[j] * a[j]), (bb += b[j] * b[j]);
    s += ab / Math.sqrt(aa * bb + 1e-12);
  }
  return s / (a.length / d);
};
const layers = feats.map((fs_, i) => {
  const last = fs_.at(-1)!, sims = fs_.map((f) => cos(f, last, model.cfg.dModel));
  return { layer: i + 1, cosToLast: { mean: sims.reduce((a, b) => a + b, 0) / sims.length, min: Math.min(...sims) }, attention: share[i] };
});
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "probe.json"), JSON.stringify({ checkpoint: ckpt, histories: N, steps: K, layers }, null, 2) + "\n");
plotSeries(path.join(out, "probe.png"), [
  { label: "feature cosine to the last denoising step (min over steps)", points: layers.map((l) => [l.layer, l.cosToLast.min]), line: true },
  { label: "attention share: earlier frames", points: layers.map((l) => [l.layer, l.attention.earlier]), line: true },
  { label: "attention share: current frame", points: layers.map((l) => [l.layer, l.attention.current]), line: true },
  { label: "attention share: own chunk tokens", points: layers.map((l) => [l.layer, l.attention.chunk]), line: true },
], { title: `entangled model, Push-T: per-layer probe over ${N} demonstration histories, ${K} denoising steps`, xLabel: "layer", yLabel: "cosine / share", yMin: 0, yMax: 1 });
for (const l of layers) process.stdout.write(`layer ${l.layer}: cos to last step mean ${l.cosToLast.mean.toFixed(3)} min ${l.cosToLast.min.toFixed(3)}; attention earlier ${l.attention.earlier.toFixed(3)} current ${l.attention.current.toFixed(3)} chunk ${l.attention.chunk.toFixed(3)}\n`);
policy.dispose();
