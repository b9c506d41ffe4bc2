/**
 * The entangled baseline as ONNX (model.ts's math, weights by name):
 *   trunk_step  frame [B, F] + per-layer KV cache of up to `history` frames → the updated cache
 *   denoise     noisy chunk x [B, H, A] + noise level [B] (float64) + the cache → prediction [B, H, A];
 *               every layer runs on the H chunk tokens, attending to the cached frames and to each other.
 */
import { type Ctx, buildGraph, linear, layerNorm, block, levelEmbedding, alibiBias, dimOf, lastAlong2 } from "../../deploy/onnx-nn.ts";
import { registerOnnxExport, type ArrayModel, type GraphRunner, type ExportFacts } from "../../deploy/runtime.ts";
import { exportConfig, emptyCache, kvInputs, kvOutputs, type KVState } from "../../deploy/kv.ts";
import { alibiSlopes } from "../../nn/alibi.ts";
import { sampleChunksArray } from "../../diffusion/sampler.ts";
import type { Rng } from "../../util/rng.ts";
import { CausalDiffusionConfig } from "./config.ts";

const LEVEL_DIM = 64; // model.ts
const KNOWN = ["horizon", "history", "window", "dModel", "layers", "heads", "mlpRatio", "objective", "draws", "positionsPerWindow", "defaultSteps", "prevAction"];

function trunkStep(c: Ctx, cfg: CausalDiffusionConfig, F: number): void {
  const { g } = c;
  const d = cfg.dModel, dh = d / cfg.heads;
  const frame = g.input({ name: "frame", dtype: "float32", shape: ["batch", F], doc: "normalized frame: observation features, previous action, first-frame flag" });
  const past = kvInputs(g, "past", cfg.layers, cfg.heads, dh, `keys/values of the previous frames, oldest first (at most history = ${cfg.history}; 0 at the first frame)`);
  // the new frame sees itself and the last history − 1 cached frames (CausalEncoder.step)
  const seen = past.map((kv) => ({ k: lastAlong2(c, kv.k, cfg.history - 1), v: lastAlong2(c, kv.v, cfg.history - 1) }));
  const P = dimOf(c, seen[0].k, 2);
  const bias = alibiBias(c, g.op1("Range", [P, g.const("int64", [-1], []), g.const("int64", [-1], [])]), alibiSlopes(cfg.heads));
  let h = g.op1("Unsqueeze", [linear(c, frame, "trunk.in", F, d), g.const("int64", [1])]);
  const present = [];
  for (let i = 0; i < cfg.layers; i++) {
    const r = block(c, h, `trunk.block${i}`, d, cfg.heads, cfg.mlpRatio, bias, seen[i]);
    h = r.y;
    present.push({ k: lastAlong2(c, r.kv.k, cfg.history), v: lastAlong2(c, r.kv.v, cfg.history) });
  }
  kvOutputs(g, present, "present", cfg.heads, dh, "the cache to pass as past_* with the next frame and to denoise");
}

function denoise(c: Ctx, cfg: CausalDiffusionConfig, H: number, A: number): void {
  const { g, w } = c;
  const d = cfg.dModel, dh = d / cfg.heads;
  const x = g.input({ name: "x", dtype: "float32", shape: ["batch", H, A], doc: "noisy chunk (normalized actions)" });
  const level = g.input({ name: "level", dtype: "float64", shape: ["batch"], doc: "noise level in [0, 1]: σ (flow) or t/100 (ddpm)" });
  const cache = kvInputs(g, "cache", cfg.layers, cfg.heads, dh, "keys/values of the frames (trunk_step's present_*)");
  // chunk tokens see every cached frame with the ALiBi distance of the current frame, and each other (bias 0)
  const S = dimOf(c, cache[0].k, 2);
  const alibi = alibiBias(c, g.op1("Range", [g.op1("Sub", [S, g.const("int64", [1], [])]), g.const("int64", [-1], []), g.const("int64", [-1], [])]), alibiSlopes(cfg.heads));
  const bias = g.op1("Concat", [alibi, g.const("float32", new Array(cfg.heads * H).fill(0), [1, cfg.heads, 1, H])], { axis: 3 }); // [1, h, 1, S+H]
  const temb = g.op1("Unsqueeze", [linear(c, linear(c, levelEmbedding(c, level, LEVEL_DIM), "time1", LEVEL_DIM, d, "relu"), "time2", d, d), g.const("int64", [1])]);
  let h = g.op1("Add", [g.op1("Add", [linear(c, x, "actIn", A, d), g.weight("chunkPos", w.get("chunkPos", [H, d]), [H, d])]), temb]);
  for (let i = 0; i < cfg.layers; i++) h = block(c, h, `trunk.block${i}`, d, cfg.heads, cfg.mlpRatio, bias, cache[i]).y;
  g.output(linear(c, layerNorm(c, h, "trunk.lnF", d), "out", d, A), { name: "prediction", dtype: "float32", shape: ["batch", H, A], doc: "velocity (flow) or ε (ddpm)" });
}

class EntangledOnnxModel implements ArrayModel {
  private kv!: KVState;
  private B = 1;
  private seen = false;
  constructor(readonly cfg: CausalDiffusionConfig, readonly facts: ExportFacts, readonly F: number, readonly g: Record<string, GraphRunner>) {}

  reset(batch: number): void {
    this.B = batch;
    this.kv = emptyCache(this.cfg.layers, batch, this.cfg.heads, this.cfg.dModel / this.cfg.heads);
    this.seen = false;
  }

  observe(frame: Float32Array): void {
    this.kv.update(this.g.trunk_step.run({ frame: { data: frame, dims: [this.B, this.F] }, ...this.kv.feeds("past") }), "present");
    this.seen = true;
  }

  sample(steps: number, rng: Rng): Float32Array {
    if (!this.seen) throw new Error("causal-diffusion (ONNX): sample before observe()");
    const B = this.B, H = this.facts.horizon, A = this.facts.actionDim;
    const cache = this.kv.feeds("cache");
    const level = new Float64Array(B);
    return sampleChunksArray(this.facts.objective ?? "flow", steps, B * H * A, rng, (x, l) => {
      level.fill(l);
      return this.g.denoise.run({ x: { data: x, dims: [B, H, A] }, level: { data: level, dims: [B] }, ...cache }).prediction.data as Float32Array;
    });
  }
}

registerOnnxExport({
  policy: "causal-diffusion",
  build(meta, w) {
    const cfg = exportConfig(CausalDiffusionConfig, meta.config, KNOWN, w);
    const F = meta.layout.frameDim, H = cfg.horizon, A = meta.layout.actionDim;
    return {
      graphs: {
        trunk_step: { builder: buildGraph("trunk_step", w, (c) => trunkStep(c, cfg, F)), doc: "once per control frame: the frame's pass through every layer, caching its keys/values" },
        denoise: { builder: buildGraph("denoise", w, (c) => denoise(c, cfg, H, A)), doc: "once per denoising step: every layer on the chunk tokens over the cached frames" },
      },
      facts: {
        horizon: H,
        actionDim: A,
        defaultSteps: cfg.defaultSteps,
        objective: cfg.objective,
        runtime:
          "reset: empty past_* caches [batch, heads, 0, dh]. Per frame: trunk_step(frame, past_*) → present_* (next frame's past_*). Per chunk: x ~ N(0, 1) [B, H, A]; " +
          "per step i: pred = denoise(x, level_i, cache_* = the latest present_*); flow: σ_i = 1 − i/K, x += pred·(σ_{i+1} − σ_i); ddpm: DDIM over t_i = (K−1−i)·⌊100/K⌋, level t_i/100, " +
          "x0 clipped to [−1, 1]; finally clip x to [−1, 1] and unnormalize with normalizers.action.",
      },
    };
  },
  runtime: (config, facts, F, graphs) => new EntangledOnnxModel(CausalDiffusionConfig.parse(config), facts, F, graphs),
});
