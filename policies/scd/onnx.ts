/**
 * SCD as ONNX: three graphs, built from the checkpoint's weights by name (model.ts's math, op for op).
 *   encoder_step      frame [B, F] + per-layer KV cache → context [B, d] + the updated cache (last history−1 frames)
 *   decoder_condition context [R, d] + noise level [R] (float64) → context token [R, 1, dDec], action bias [R, H, dDec]
 *   decoder_denoise   noisy chunk x [B, H, A] + one step's condition → prediction [B, H, A] (velocity or ε)
 * Per frame: one encoder_step; per chunk: one decoder_condition over all K levels (R = K·B) and K decoder_denoise
 * calls inside the shared sampling loop (src/diffusion/objective.ts).
 */
import { GraphBuilder } from "../../src/deploy/onnx-graph.ts";
import { type Ctx, linear, layerNorm, block, levelEmbedding, alibiBias, dimOf, lastAlong2 } from "../../src/deploy/onnx-nn.ts";
import { registerOnnxExport, type ArrayModel, type Feed, type GraphRunner, type ExportFacts } from "../../src/deploy/runtime.ts";
import { checkKnownConfig, emptyCache, kvInputs, kvOutputs, type KVState } from "../../src/deploy/kv.ts";
import { alibiSlopes } from "../../src/nn/transformer.ts";
import { sampleChunksArray, samplerLevels } from "../../src/diffusion/objective.ts";
import type { Rng } from "../../src/util/rng.ts";
import { ScdConfig } from "./config.ts";

const LEVEL_DIM = 64; // model.ts
// the config fields this exporter implements; a new architecture field must get its graph here first
const KNOWN = ["horizon", "history", "window", "dModel", "encLayers", "heads", "mlpRatio", "decDModel", "decLayers", "decHeads", "objective", "contextNoise", "decoderLrMult", "decoderDraws", "positionsPerWindow", "defaultSteps", "prevAction"];

function encoderStep(c: Ctx, cfg: ScdConfig, F: number): void {
  const { g } = c;
  const d = cfg.dModel, dh = d / cfg.heads;
  const frame = g.input({ name: "frame", dtype: "float32", shape: ["batch", F], doc: "normalized frame: observation features, previous action, first-frame flag" });
  const past = kvInputs(g, "past", cfg.encLayers, cfg.heads, dh, `keys/values of the previous frames, oldest first (at most history − 1 = ${cfg.history - 1}; 0 at the first frame)`);
  const trimmed = past.map((kv) => ({ k: lastAlong2(c, kv.k, cfg.history - 1), v: lastAlong2(c, kv.v, cfg.history - 1) }));
  // ALiBi: the new frame sees itself (distance 0) and the cached frames (distances P … 1)
  const P = dimOf(c, trimmed[0].k, 2);
  const bias = alibiBias(c, g.op1("Range", [P, g.const("int64", [-1], []), g.const("int64", [-1], [])]), alibiSlopes(cfg.heads));
  let h = g.op1("Unsqueeze", [linear(c, frame, "encoder.in", F, d), g.const("int64", [1])]); // [B, 1, d]
  const present = [];
  for (let i = 0; i < cfg.encLayers; i++) {
    const r = block(c, h, `encoder.block${i}`, d, cfg.heads, cfg.mlpRatio, bias, trimmed[i]);
    h = r.y;
    present.push({ k: lastAlong2(c, r.kv.k, cfg.history - 1), v: lastAlong2(c, r.kv.v, cfg.history - 1) });
  }
  g.output(g.op1("Squeeze", [layerNorm(c, h, "encoder.lnF", d), g.const("int64", [1])]), { name: "context", dtype: "float32", shape: ["batch", d], doc: "encoder output at this frame" });
  kvOutputs(g, present, "present", cfg.heads, dh, "the cache to pass as past_* with the next frame");
}

function decoderCondition(c: Ctx, cfg: ScdConfig, H: number): void {
  const { g, w } = c;
  const d = cfg.decDModel;
  const ctx = g.input({ name: "context", dtype: "float32", shape: ["rows", cfg.dModel], doc: "encoder context, one row per (denoising step, stream)" });
  const level = g.input({ name: "level", dtype: "float64", shape: ["rows"], doc: "noise level in [0, 1]: σ (flow) or t/100 (ddpm)" });
  const temb = g.op1("Unsqueeze", [linear(c, linear(c, levelEmbedding(c, level, LEVEL_DIM), "decoder.time1", LEVEL_DIM, d, "relu"), "decoder.time2", d, d), g.const("int64", [1])]); // [R, 1, d]
  const pos = w.get("decoder.pos", [H + 1, d]);
  const p0 = g.weight("decoder.pos[0]", pos.slice(0, d), [1, d]), pa = g.weight("decoder.pos[1:]", pos.slice(d), [H, d]);
  const ctxTok = g.op1("Add", [g.op1("Add", [g.op1("Unsqueeze", [linear(c, ctx, "decoder.ctx", cfg.dModel, d), g.const("int64", [1])]), p0]), temb]);
  g.output(ctxTok, { name: "context_token", dtype: "float32", shape: ["rows", 1, d] });
  g.output(g.op1("Add", [pa, temb]), { name: "action_bias", dtype: "float32", shape: ["rows", H, d] });
}

function decoderDenoise(c: Ctx, cfg: ScdConfig, H: number, A: number): void {
  const { g } = c;
  const d = cfg.decDModel;
  const x = g.input({ name: "x", dtype: "float32", shape: ["batch", H, A], doc: "noisy chunk (normalized actions)" });
  const ctxTok = g.input({ name: "context_token", dtype: "float32", shape: ["batch", 1, d], doc: "decoder_condition output for this step" });
  const actBias = g.input({ name: "action_bias", dtype: "float32", shape: ["batch", H, d], doc: "decoder_condition output for this step" });
  let h = g.op1("Concat", [ctxTok, g.op1("Add", [linear(c, x, "decoder.actIn", A, d), actBias])], { axis: 1 }); // [B, H+1, d]
  for (let i = 0; i < cfg.decLayers; i++) h = block(c, h, `decoder.block${i}`, d, cfg.decHeads, cfg.mlpRatio, null, null).y;
  const tokens = g.op1("Slice", [layerNorm(c, h, "decoder.ln", d), g.const("int64", [1]), g.const("int64", [H + 1]), g.const("int64", [1])]);
  g.output(linear(c, tokens, "decoder.out", d, A), { name: "prediction", dtype: "float32", shape: ["batch", H, A], doc: "velocity (flow) or ε (ddpm)" });
}

class ScdOnnxModel implements ArrayModel {
  private kv!: KVState;
  private ctx: Float32Array | null = null;
  private B = 1;
  constructor(readonly cfg: ScdConfig, readonly facts: ExportFacts, readonly F: number, readonly g: Record<string, GraphRunner>) {}

  reset(batch: number): void {
    this.B = batch;
    this.kv = emptyCache(this.cfg.encLayers, batch, this.cfg.heads, this.cfg.dModel / this.cfg.heads);
    this.ctx = null;
  }

  observe(frame: Float32Array): void {
    const r = this.g.encoder_step.run({ frame: { data: frame, dims: [this.B, this.F] }, ...this.kv.feeds("past") });
    this.kv.update(r, "present");
    this.ctx = r.context.data as Float32Array;
  }

  sample(steps: number, rng: Rng): Float32Array {
    if (!this.ctx) throw new Error("scd (ONNX): sample before observe()");
    const { B } = this, H = this.facts.horizon, A = this.facts.actionDim, d = this.cfg.dModel, dDec = this.cfg.decDModel;
    const objective = this.facts.objective ?? "flow";
    const lv = samplerLevels(objective, steps);
    // the conditioning of all K steps in one call (rows = step-major, as model.ts tiles it)
    const ctx = new Float32Array(lv.length * B * d), level = new Float64Array(lv.length * B);
    lv.forEach((l, i) => (ctx.set(this.ctx!, i * B * d), level.fill(l, i * B, (i + 1) * B)));
    const cond = this.g.decoder_condition.run({ context: { data: ctx, dims: [lv.length * B, d] }, level: { data: level, dims: [lv.length * B] } });
    const tok = cond.context_token.data as Float32Array, bias = cond.action_bias.data as Float32Array;
    return sampleChunksArray(objective, steps, B * H * A, rng, (x, _l, i) => {
      const feeds: Record<string, Feed> = {
        x: { data: x, dims: [B, H, A] },
        context_token: { data: tok.subarray(i * B * dDec, (i + 1) * B * dDec), dims: [B, 1, dDec] },
        action_bias: { data: bias.subarray(i * B * H * dDec, (i + 1) * B * H * dDec), dims: [B, H, dDec] },
      };
      return this.g.decoder_denoise.run(feeds).prediction.data as Float32Array;
    });
  }
}

registerOnnxExport({
  policy: "scd",
  build(meta, w) {
    const cfg = ScdConfig.parse(checkKnownConfig(meta.config, KNOWN, ScdConfig.parse({}), w.where.replace(/weights\.msgpack$/, "checkpoint.json")));
    const F = meta.layout.frameDim, H = cfg.horizon, A = meta.layout.actionDim;
    const mk = (name: string, f: (c: Ctx) => void) => {
      const g = new GraphBuilder(name);
      f({ g, w });
      return g;
    };
    return {
      graphs: {
        encoder_step: { builder: mk("encoder_step", (c) => encoderStep(c, cfg, F)), doc: "once per control frame: the causal encoder's incremental step over its KV cache" },
        decoder_condition: { builder: mk("decoder_condition", (c) => decoderCondition(c, cfg, H)), doc: "once per chunk: the decoder's conditioning for every noise level" },
        decoder_denoise: { builder: mk("decoder_denoise", (c) => decoderDenoise(c, cfg, H, A)), doc: "once per denoising step: the light decoder" },
      },
      facts: {
        horizon: H,
        actionDim: A,
        defaultSteps: cfg.defaultSteps,
        objective: cfg.objective,
        runtime:
          "reset: empty past_* caches [batch, heads, 0, dh]. Per frame: encoder_step(frame, past_*) → context, present_* (next frame's past_*). Per chunk: " +
          "levels = flow: σ_i = 1 − i/K (i < K) / ddpm: t_i/100 for DDIM timesteps t_i = (K−1−i)·⌊100/K⌋; decoder_condition(context tiled K times step-major, levels) → " +
          "rows i·B…(i+1)·B belong to step i; x ~ N(0, 1) [B, H, A]; per step i: pred = decoder_denoise(x, rows of step i); flow: x += pred·(σ_{i+1} − σ_i); " +
          "ddpm: DDIM with ε = pred, x0 clipped to [−1, 1] (squared-cosine ᾱ over 100 steps); finally clip x to [−1, 1] and unnormalize with normalizers.action.",
      },
    };
  },
  runtime: (config, facts, F, graphs) => new ScdOnnxModel(ScdConfig.parse(config), facts, F, graphs),
});
