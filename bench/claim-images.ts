/**
 * `npm run bench -- claim-images`: the separable advantage with a camera (issue #21 item 6). Batch-1 per-frame latency
 * (one frame's observe + one K-step chunk) of SCD against a same-size entangled model, both with the SAME image encoder
 * (ScdImageConfig's defaults) on Push-T's image layout (a 96 × 96 × 3 frame + the 2-D agent position, observations
 * only), the like-for-like arms of experiments/claim/arms.ts (history 2, H = 16, d 128; 8 + 4 against 12 layers),
 * untrained weights, on TensorFlow.js and on ONNX Runtime (onnxruntime-node, one thread), K = BENCH_K (10):
 *   1. the models as they are: ONE feature vector per frame (the CNN's features join the frame's token), the real
 *      exports; and the image encoder alone per frame (centre crop + CNN), so the transformers' own ratio shows;
 *   2. a latency-only SPATIAL-TOKEN variant built from the same modules: each frame is T + 1 tokens — its frame token
 *      as in 1, plus the first T spatial-softmax keypoints of the same CNN as tokens ((x, y) → linear → d, + a learned
 *      per-keypoint embedding). SCD's encoder digests the T + 1 tokens once per frame (KV cache of (history − 1)(T + 1)
 *      tokens) and its decoder is unchanged (the frame token's output is the context). The entangled model runs the
 *      T + 1 tokens through its trunk once per frame and every denoising step attends over the history(T + 1) cached
 *      keys ("cached"), or, without a KV cache, reruns all layers over history(T + 1) + H tokens at every step
 *      ("naive"). T = 0 is the same computation as 1 (a check on the variant's harness).
 * The first 5 frames warm up; BENCH_FRAMES (60) are timed, wall and CPU time each (on a loaded machine the CPU time's
 * ratios are the steadier); BENCH_TOKENS lists the T values (default 0,16,32; at most the CNN's 32 keypoints).
 */
import * as tf from "@tensorflow/tfjs";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { policyDef, parsePolicyConfig, type PolicyModel, type GraphDef, type GraphRunner, type Feed, type ValueSpec } from "../src/policies/registry.ts";
import { frameLayout } from "../src/policies/frames.ts";
import { ScdImageConfig } from "../src/policies/scd/config.ts";
import type { ScdModel } from "../src/policies/scd/model.ts";
import type { EntangledDiffusionModel } from "../src/policies/entangled-diffusion/model.ts";
import { Module, Linear } from "../src/nn/module.ts";
import type { CausalEncoder } from "../src/nn/causal-encoder.ts";
import type { KV } from "../src/nn/transformer.ts";
import type { Ops, Levels } from "../src/nn/ops.ts";
import { tfOps } from "../src/nn/tf-ops.ts";
import { traceGraph } from "../src/deploy/onnx-ops.ts";
import { kvSpecs, kvOf, kvNamed } from "../src/deploy/kv.ts";
import { nodeRunner } from "../src/deploy/ort-node.ts";
import { loadExport } from "../src/deploy/onnx-policy.ts";
import { modelWeights } from "../src/policies/learned.ts";
import { writeCheckpoint } from "../src/checkpoints/checkpoint.ts";
import { exportCheckpoint, factsOf } from "../src/checkpoints/export-dir.ts";
import { fitNormalizer, imageNormalizer } from "../src/datasets/normalizer.ts";
import { sampleChunks } from "../src/diffusion/objective.ts";
import { sampleChunksArray, samplerLevels } from "../src/diffusion/sampler.ts";
import { Rng } from "../src/util/rng.ts";
import { quantile, type BenchResult } from "./util.ts";
import { ARMS } from "../experiments/claim/arms.ts";

const K = Number(process.env.BENCH_K ?? 10), FRAMES = Number(process.env.BENCH_FRAMES ?? 60);
const TOKENS = (process.env.BENCH_TOKENS ?? "0,16,32").split(",").map(Number);
const IMG = { name: "observation.image", shape: [96, 96, 3] }, IMAGE = ScdImageConfig.parse({});
const layout = frameLayout([{ name: "observation.agent_pos", dim: 2 }], 2, { prevAction: false, imageFeatures: [IMG] });
/** Per-frame wall ms and CPU ms (user + system, this process: what a frame costs when other processes share the cores). */
type Lat = { median: number; p99: number; cpuMedian: number; cpuP99: number };
type Stat = "median" | "cpuMedian";

/** Per-frame latency over FRAMES frames after 5 warm-up frames; `frame(t)` runs frame t. */
function timeFrames(frame: (t: number) => void): Lat {
  const ms: number[] = [], cpu: number[] = [];
  for (let t = 0; t < FRAMES + 5; t++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    frame(t);
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const q = (xs: number[], p: number) => quantile(xs.slice(5), p);
  return { median: q(ms, 0.5), p99: q(ms, 0.99), cpuMedian: q(cpu, 0.5), cpuP99: q(cpu, 0.99) };
}

// four frames of inputs, cycled: agent positions and normalized images (arrays for ONNX Runtime, tensors for tfjs)
const rng0 = new Rng(3);
const FR = Array.from({ length: 4 }, () => Float32Array.from(rng0.normals(2)));
const IM = Array.from({ length: 4 }, () => Float32Array.from(rng0.normals(96 * 96 * 3), (v) => Math.tanh(v)));
const feed = (data: Float32Array | Float64Array, dims: number[]): Feed => ({ data, dims });

/** The spatial-token variant's extra parameters over a real model (its frame token, trunk and image encoder). */
class Spatial extends Module {
  readonly proj: Linear;
  readonly emb: tf.Variable;
  constructor(readonly m: ScdModel | EntangledDiffusionModel, readonly enc: CausalEncoder, readonly T: number) {
    super();
    const rng = new Rng(5), d = enc.d;
    this.child("m", m);
    this.proj = this.child("proj", new Linear(rng, 2, d));
    this.emb = this.param("emb", [Math.max(T, 1), d], rng.normals(Math.max(T, 1) * d, 0.02));
  }
  /** frame [1, F], image [1, 96, 96, 3] → the frame's tokens [1, T + 1, d]: T keypoint tokens, then the frame token. */
  tokens<T>(o: Ops<T>, frame: T, image: T): T {
    const ip = this.m.imagePath, e = ip.encoders[0], kp = e.keypoints(o, ip.centerCrop(o, image, 0)); // [1, 2·keypoints]
    const tok = o.expandDims(this.enc.inProj.apply(o, o.concat([frame, e.out.apply(o, kp)], 1)), 1); // [1, 1, d]
    if (!this.T) return tok;
    const sp = o.add(this.proj.apply(o, o.reshape(o.slice(kp, 1, 0, 2 * this.T), [1, this.T, 2])), o.param(this.emb)); // [1, T, d]
    return o.concat([sp, tok], 1);
  }
  /** The trunk over one frame's tokens h [1, T + 1, d] seeing the last `seen` cached keys → lnF(h), keeping `keep` keys. */
  step<T>(o: Ops<T>, h: T, past: KV<T>[], seen: number, keep: number, bias: T): { h: T; present: KV<T>[] } {
    const present: KV<T>[] = [];
    this.enc.blocks.forEach((b, i) => {
      const r = b.apply(o, h, bias, seen ? { k: o.last(past[i].k, 2, seen), v: o.last(past[i].v, 2, seen) } : null);
      h = r.y;
      present.push({ k: o.last(r.kv.k, 2, keep), v: o.last(r.kv.v, 2, keep) });
    });
    return { h: this.enc.lnF.apply(o, h), present };
  }
}

/** ALiBi by frame distance: queries of `q` tokens (frames qf[i]) over keys of frames kf[j]; −1e9 where not seen. */
function frameBias(slopes: number[], qf: number[], kf: number[], seen: (i: number, j: number) => boolean): { data: Float32Array; shape: number[] } {
  const data = new Float32Array(slopes.length * qf.length * kf.length);
  slopes.forEach((s, h) => qf.forEach((a, i) => kf.forEach((b, j) => (data[(h * qf.length + i) * kf.length + j] = seen(i, j) ? -s * Math.max(0, a - b) : -1e9))));
  return { data, shape: [1, slopes.length, qf.length, kf.length] };
}

/** A graph of the variant: traced and loaded in ONNX Runtime, or run on tfjs by the same code. */
function graph(v: Spatial, name: string, inputs: ValueSpec[], outputs: ValueSpec[], fn: GraphDef<Spatial>["trace"]): GraphRunner {
  const def: GraphDef<Spatial> = { doc: name, inputs, outputs, trace: fn };
  const p = v as unknown as PolicyModel;
  return nodeRunner(traceGraph(name, def as unknown as GraphDef, p, modelWeights(p)).builder.toBytes(name));
}
const f32 = (name: string, shape: (number | string)[]): ValueSpec => ({ name, dtype: "float32", shape });

/** Export a real model (SCD or entangled) to ONNX in a temp directory; its loaded graphs and runtime. */
function exportReal(name: string, model: PolicyModel, config: Record<string, unknown>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-bench-img-"));
  try {
    const mm = fitNormalizer(Float32Array.of(-1, -1, 1, 1), 2, "minmax");
    const norms = { "observation.agent_pos": mm, action: mm, [IMG.name]: imageNormalizer(IMG.shape, "unit") };
    writeCheckpoint(path.join(dir, "ck"), { format: "scd-checkpoint", version: 1, policy: name, config, layout, normalizers: norms, step: 0, numParams: model.numParams(), seed: 0, info: {} }, modelWeights(model));
    exportCheckpoint(path.join(dir, "ck"), path.join(dir, "onnx"));
    const ex = loadExport(path.join(dir, "onnx"), (b) => nodeRunner(b));
    return { ex, rt: policyDef(name).onnx!.runtime(ex.manifest.config, factsOf(ex.manifest), layout.frameDim, ex.graphs) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchClaimImages(): Promise<BenchResult> {
  await initBackend("wasm");
  const arm = (id: string) => ARMS.find((a) => a.id === id)!.policyConfig;
  const cfgs = { scd: { ...arm("scd-t"), image: IMAGE, defaultSteps: K }, entangled: { ...arm("entangled"), image: IMAGE, defaultSteps: K } };
  const scdCfg = parsePolicyConfig(policyDef("scd"), cfgs.scd, "scd"), entCfg = parsePolicyConfig(policyDef("entangled-diffusion"), cfgs.entangled, "entangled");
  const scd = policyDef("scd").create(scdCfg, layout, 0) as unknown as ScdModel, ent = policyDef("entangled-diffusion").create(entCfg, layout, 0) as unknown as EntangledDiffusionModel;
  const H = scd.horizon, A = scd.actionDim, hist = Number(scdCfg.history), heads = Number(scdCfg.heads), d = Number(scdCfg.dModel), dh = d / heads;
  if (hist < 2 || Number(entCfg.history) !== hist || TOKENS.some((T) => !(T >= 0 && T <= IMAGE.keypoints))) throw new Error(`claim-images: the arms share a history ≥ 2; BENCH_TOKENS from 0 to ${IMAGE.keypoints}`);
  const FT = FR.map((x) => tf.tensor(x, [1, 2])), IT = IM.map((x) => tf.tensor(x, [1, 96, 96, 3]));
  const tfjs: Record<string, Lat> = {}, onnx: Record<string, Lat> = {};
  const noise = (rng: Rng) => Float32Array.from(rng.normals(H * A));
  const zeros = new Float32Array(H * A);

  // 1. the models as they are (one vector per frame) and the image encoder alone
  const real = { scd: exportReal("scd", scd, scdCfg), entangled: exportReal("entangled-diffusion", ent, entCfg) };
  for (const [key, m] of [["scd", scd], ["entangled", ent]] as const) {
    const rng = new Rng(0), o = real[key].rt;
    m.reset(1);
    tfjs[key] = timeFrames((t) => {
      m.observe(FT[t % 4], [IT[t % 4]]);
      const y = m.sample(K, rng);
      y.dataSync();
      y.dispose();
    });
    o.reset(1);
    onnx[key] = timeFrames((t) => (o.observe(FR[t % 4], [IM[t % 4]]), o.sample(K, rng)));
  }
  const cnnV = new Spatial(scd, scd.encoder, 0);
  const cnn = graph(cnnV, "image_features", [f32("frame", [1, 2]), f32("image_0", [1, 96, 96, 3])], [f32("features", [1, 2 + IMAGE.dOut])], (v, o, x) => ({ features: v.m.imagePath.append(o, x.frame, [v.m.imagePath.centerCrop(o, x.image_0, 0)], [0]) }));
  tfjs.imageEncoder = timeFrames((t) => {
    const y = scd.imagePath.frameInput(FT[t % 4], [IT[t % 4]]);
    y.dataSync();
    y.dispose();
  });
  onnx.imageEncoder = timeFrames((t) => cnn.run({ frame: feed(FR[t % 4], [1, 2]), image_0: feed(IM[t % 4], [1, 96, 96, 3]) }));
  cnn.dispose();

  // 2. the spatial-token variant at each T
  const spatial: Record<string, { tfjs: Record<string, Lat>; onnx: Record<string, Lat>; ratio?: Record<string, { cached: number; naive: number }> }> = {};
  for (const T of TOKENS) {
    const n = T + 1, seenS = (hist - 1) * n, keepE = hist * n, Sf = hist * n, S = Sf + H;
    const vs = new Spatial(scd, scd.encoder, T), ve = new Spatial(ent, ent.trunk, T);
    const fr = (k: number) => Array.from({ length: k }, (_, j) => Math.floor(j / n)); // token → frame index, oldest first
    const qf = new Array(n).fill(hist - 1), stepBias = frameBias(scd.encoder.slopes, qf, fr(Sf), () => true);
    // the naive model's mask: frames causal within the band, chunk tokens see every frame and each other
    const mask = frameBias(ent.trunk.slopes, [...fr(Sf), ...new Array(H).fill(hist - 1)], [...fr(Sf), ...new Array(H).fill(hist - 1)], (i, j) => (j < Sf ? i >= Sf || fr(Sf)[j] <= fr(Sf)[i] : i >= Sf));
    const L = (v: Spatial) => v.enc.blocks.length;
    const ins = (v: Spatial, past: number) => [f32("frame", [1, 2]), f32("image_0", [1, 96, 96, 3]), ...kvSpecs("past", L(v), heads, dh, "").map((s) => ({ ...s, shape: [1, heads, past, dh] }))];
    const stepFn = (v: Spatial, keep: number) => <X>(o: Ops<X>, x: Record<string, X>) => v.step(o, v.tokens(o, x.frame, x.image_0), kvOf(x, "past", L(v)), seenS, keep, o.constant(stepBias.data, stepBias.shape));
    const ctxOf = <X>(o: Ops<X>, h: X) => o.squeeze(o.slice(h, 1, T, T + 1), 1); // the frame token's output [1, d]
    const fullFn = <X>(o: Ops<X>, x: X, level: Levels<X>, toks: X) => {
      let h = o.concat([toks, ent.chunkTokens<X>(o, x, level)], 1); // [1, S, d]
      const m = o.constant(mask.data, mask.shape);
      for (const b of ent.trunk.blocks) h = b.apply(o, h, m).y;
      return ent.out.apply(o, ent.trunk.lnF.apply(o, o.slice(h, 1, Sf, S))); // [1, H, A]
    };
    const r: (typeof spatial)[string] = { tfjs: {}, onnx: {} };
    // ONNX Runtime: the variant's per-frame graphs, with the real decoder_sample (SCD) and denoise (entangled) graphs
    const gS = graph(vs, "scd_step", ins(vs, seenS), [f32("context", [1, d]), ...kvSpecs("present", L(vs), heads, dh, "")], (v, o, x) => {
      const s = stepFn(v, seenS)(o, x);
      return { context: ctxOf(o, s.h), ...kvNamed(s.present, "present") };
    });
    const gE = graph(ve, "ent_step", ins(ve, keepE), kvSpecs("present", L(ve), heads, dh, ""), (v, o, x) => kvNamed(stepFn(v, keepE)(o, x).present, "present"));
    const gT = graph(ve, "tokens", [f32("frame", [1, 2]), f32("image_0", [1, 96, 96, 3])], [f32("tokens", [1, n, d])], (v, o, x) => ({ tokens: v.tokens(o, x.frame, x.image_0) }));
    const gF = graph(ve, "denoise_full", [f32("x", [1, H, A]), { name: "level", dtype: "float64", shape: [1] }, f32("tokens", [1, Sf, d])], [f32("prediction", [1, H, A])], (_v, o, x) => ({ prediction: fullFn(o, x.x, x.level, x.tokens) }));
    const pastOf = (k: number, layers: number) => Object.fromEntries(kvSpecs("past", layers, heads, dh, "").map((s) => [s.name, feed(new Float32Array(heads * k * dh), [1, heads, k, dh])]));
    const rename = (out: Record<string, Feed>, to: string) => Object.fromEntries(Object.entries(out).filter(([k]) => k.startsWith("present_")).map(([k, f]) => [k.replace("present", to), f]));
    let rng = new Rng(0), past = pastOf(seenS, L(vs));
    const sample = real.scd.ex.graphs.decoder_sample, den = real.entangled.ex.graphs.denoise, lvl = new Float64Array(1);
    r.onnx.scd = timeFrames((t) => {
      const s = gS.run({ frame: feed(FR[t % 4], [1, 2]), image_0: feed(IM[t % 4], [1, 96, 96, 3]), ...past });
      past = rename(s, "past");
      sample.run({ context: s.context, noise: feed(noise(rng), [1, H, A]), guide_target: feed(zeros, [1, H, A]), guide_weights: feed(zeros, [1, H, A]) });
    });
    past = pastOf(keepE, L(ve));
    r.onnx.entangled = timeFrames((t) => {
      const s = gE.run({ frame: feed(FR[t % 4], [1, 2]), image_0: feed(IM[t % 4], [1, 96, 96, 3]), ...past });
      past = rename(s, "past");
      const cache = rename(s, "cache");
      sampleChunksArray("flow", K, H * A, rng, (x, l) => (lvl.fill(l), den.run({ x: feed(x, [1, H, A]), level: feed(lvl, [1]), ...cache }).prediction.data as Float32Array));
    });
    let win = new Float32Array(Sf * d);
    r.onnx.entangledNaive = timeFrames((t) => {
      const tok = gT.run({ frame: feed(FR[t % 4], [1, 2]), image_0: feed(IM[t % 4], [1, 96, 96, 3]) }).tokens.data as Float32Array;
      const w = new Float32Array(Sf * d);
      w.set(win.subarray(n * d)), w.set(tok, (Sf - n) * d), (win = w);
      sampleChunksArray("flow", K, H * A, rng, (x, l) => (lvl.fill(l), gF.run({ x: feed(x, [1, H, A]), level: feed(lvl, [1]), tokens: feed(win, [1, Sf, d]) }).prediction.data as Float32Array));
    });
    [gS, gE, gT, gF].forEach((g) => g.dispose());
    // tfjs: the same code on tensors; the caches are kept across frames, everything else is tidied
    rng = new Rng(0);
    const keepT = (xs: tf.Tensor[]) => xs.map((x) => tf.keep(x));
    const kvT = (k: number, layers: number) => Array.from({ length: layers }, () => ({ k: tf.zeros([1, heads, k, dh]), v: tf.zeros([1, heads, k, dh]) }));
    const run = (v: Spatial, keep: number, chunk: (ctx: tf.Tensor, cache: KV[]) => tf.Tensor) => {
      let cache = kvT(keep, L(v));
      const lat = timeFrames((t) => {
        const next = tf.tidy(() => {
          const s = v.step(tfOps, v.tokens(tfOps, FT[t % 4], IT[t % 4]), cache, seenS, keep, tfOps.constant(stepBias.data, stepBias.shape));
          chunk(ctxOf(tfOps, s.h), s.present).dataSync();
          return keepT(s.present.flatMap((p) => [p.k, p.v]));
        });
        tf.dispose(cache.flatMap((p) => [p.k, p.v]));
        cache = cache.map((_, i) => ({ k: next[2 * i], v: next[2 * i + 1] }));
      });
      tf.dispose(cache.flatMap((p) => [p.k, p.v]));
      return lat;
    };
    r.tfjs.scd = run(vs, seenS, (ctx) => {
      // as ScdModel.sample: the conditioning of all K steps in one batched pass, then one decoder evaluation per step
      const lv = samplerLevels("flow", K), c = scd.decoder.condition(tfOps, tf.tile(ctx, [lv.length, 1]), lv);
      const parts = Object.entries(c).map(([k, x]) => [k, tf.split(x, lv.length, 0)] as const);
      const conds = lv.map((_, i) => Object.fromEntries(parts.map(([k, p]) => [k, p[i]])));
      return sampleChunks("flow", K, [1, H, A], rng, (x, _l, i) => scd.decoder.denoise(tfOps, conds[i], x));
    });
    r.tfjs.entangled = run(ve, keepE, (_ctx, cache) => sampleChunks("flow", K, [1, H, A], rng, (x, levels) => ent.denoise(tfOps, x, levels, cache)));
    let winT = tf.zeros([1, Sf, d]);
    r.tfjs.entangledNaive = timeFrames((t) => {
      const w = tf.tidy(() => {
        const w = tf.concat([winT.slice([0, n, 0], [-1, -1, -1]), ve.tokens(tfOps, FT[t % 4], IT[t % 4])], 1);
        sampleChunks("flow", K, [1, H, A], rng, (x, levels) => fullFn(tfOps, x, levels, w)).dataSync();
        return w;
      });
      winT.dispose();
      winT = w;
    });
    winT.dispose();
    [vs.proj, ve.proj].forEach((p) => p.dispose());
    tf.dispose([vs.emb, ve.emb]);
    spatial[T] = r;
  }

  // the table and the ratios
  const params = { scd: scd.numParams(), entangled: ent.numParams(), imageEncoder: scd.imageEncoders[0].numParams() };
  // ratios of medians, of wall time and (steadier on a loaded machine) of CPU time
  const ratios = (rt: Record<string, Lat>, k: Stat) => ({ overall: rt.entangled[k] / rt.scd[k], transformers: (rt.entangled[k] - rt.imageEncoder[k]) / (rt.scd[k] - rt.imageEncoder[k]), imageEncoderShareOfScd: rt.imageEncoder[k] / rt.scd[k] });
  const ratio = { tfjs: ratios(tfjs, "median"), onnx: ratios(onnx, "median"), tfjsCpu: ratios(tfjs, "cpuMedian"), onnxCpu: ratios(onnx, "cpuMedian"), params: params.entangled / params.scd };
  const ms = (l: Lat) => `${l.median.toFixed(1)} / ${l.p99.toFixed(1)} (${l.cpuMedian.toFixed(1)} / ${l.cpuP99.toFixed(1)})`;
  const rows = [["row", "tfjs p50 / p99 ms (CPU p50 / p99)", "ONNX Runtime p50 / p99 ms (CPU p50 / p99)"]];
  rows.push([`SCD (scd-t + CNN, ${params.scd.toLocaleString("en")} params)`, ms(tfjs.scd), ms(onnx.scd)], [`entangled (12 layers + CNN, ${params.entangled.toLocaleString("en")})`, ms(tfjs.entangled), ms(onnx.entangled)]);
  rows.push([`image encoder alone (${params.imageEncoder.toLocaleString("en")})`, ms(tfjs.imageEncoder), ms(onnx.imageEncoder)]);
  const perToken: Record<string, Record<string, Record<string, number>>> = {};
  for (const T of TOKENS) {
    const s = spatial[T];
    for (const [k, what] of [["scd", "SCD"], ["entangled", "entangled, cached"], ["entangledNaive", "entangled, naive (no KV cache)"]] as const) rows.push([`${T} keypoint tokens + 1: ${what}`, ms(s.tfjs[k]), ms(s.onnx[k])]);
    const rr = (rt: Record<string, Lat>, k: Stat) => ({ cached: rt.entangled[k] / rt.scd[k], naive: rt.entangledNaive[k] / rt.scd[k] });
    s.ratio = { tfjs: rr(s.tfjs, "median"), onnx: rr(s.onnx, "median"), tfjsCpu: rr(s.tfjs, "cpuMedian"), onnxCpu: rr(s.onnx, "cpuMedian") };
    const lo = Math.min(...TOKENS);
    if (T > lo) perToken[T] = Object.fromEntries((["tfjs", "onnx"] as const).map((rt) => [rt, Object.fromEntries((["scd", "entangled", "entangledNaive"] as const).map((k) => [k, (s[rt][k].cpuMedian - spatial[lo][rt][k].cpuMedian) / (T - lo)]))]));
  }
  const x2 = (a: number, b: number) => `${a.toFixed(2)}x / ${b.toFixed(2)}x`;
  const top = Math.max(...TOKENS), sp = spatial[top] as Required<(typeof spatial)[string]>;
  tf.dispose([...FT, ...IT]);
  [real.scd.ex, real.entangled.ex, scd, ent].forEach((x) => x.dispose());
  return {
    name: "claim-images",
    title: `same-size SCD vs entangled with the same image encoder (96 × 96 × 3 + agent_pos), history ${hist}, K = ${K}, batch 1, per control frame; tfjs ${tf.getBackend()}, ONNX Runtime 1 thread`,
    rows,
    summary: `entangled / SCD in CPU time per frame (tfjs / ONNX Runtime; wall-time ratios in the JSON): ${x2(ratio.tfjsCpu.overall, ratio.onnxCpu.overall)} overall, ${x2(ratio.tfjsCpu.transformers, ratio.onnxCpu.transformers)} for the transformers alone (frame minus the CNN, which is ${(100 * ratio.tfjsCpu.imageEncoderShareOfScd).toFixed(0)} % / ${(100 * ratio.onnxCpu.imageEncoderShareOfScd).toFixed(0)} % of SCD's frame); with ${top} spatial tokens per frame: ${x2(sp.ratio.tfjsCpu.cached, sp.ratio.onnxCpu.cached)} with the entangled KV cache, ${x2(sp.ratio.tfjsCpu.naive, sp.ratio.onnxCpu.naive)} without; parameters entangled / SCD ${ratio.params.toFixed(3)}`,
    json: { K, frames: FRAMES, history: hist, backend: tf.getBackend(), image: IMAGE, configs: cfgs, params, tfjs, onnx, ratio, spatial, perTokenCpuMs: perToken },
  };
}
