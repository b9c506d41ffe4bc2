/**
 * SCD as ONNX: three graphs, built from the checkpoint's weights by name (model.ts's math, op for op).
 *   encoder_step      frame [B, F] + per-layer KV cache → context [B, d] + the updated cache (last history−1 frames)
 *   decoder_condition context [R, d] + noise level [R] (float64) → the decoder's conditioning (onnx-decoders.ts: context
 *                     token and action bias for the transformer decoder, FiLM scale/shift per block for the MLP one)
 *   decoder_denoise   noisy chunk x [B, H, A] + one step's conditioning → prediction [B, H, A] (velocity or ε)
 * Per frame: one encoder_step; per chunk: one decoder_condition over all K levels (R = K·B) and K decoder_denoise
 * calls inside the shared sampling loop (src/diffusion/objective.ts).
 */
import { type Ctx, buildGraph, linear, layerNorm, block, alibiBias, dimOf, lastAlong2 } from "../../deploy/onnx-nn.ts";
import { registerOnnxExport, type ArrayModel, type Feed, type GraphRunner, type ExportFacts } from "../../deploy/runtime.ts";
import { exportConfig, emptyCache, kvInputs, kvOutputs, type KVState } from "../../deploy/kv.ts";
import { alibiSlopes } from "../../nn/alibi.ts";
import { sampleChunksArray, samplerLevels } from "../../diffusion/sampler.ts";
import type { Rng } from "../../util/rng.ts";
import { ScdConfig } from "./config.ts";
import { transformerCondition, transformerDenoise, mlpCondition, mlpDenoise } from "./onnx-decoders.ts";

// the config fields this exporter implements; a new architecture field must get its graph here first
const KNOWN = ["horizon", "history", "window", "dModel", "encLayers", "heads", "mlpRatio", "decDModel", "decLayers", "decHeads", "objective", "contextNoise", "decoderLrMult", "decoderDraws", "positionsPerWindow", "defaultSteps", "prevAction", "decoder"];

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
    const { B } = this, H = this.facts.horizon, A = this.facts.actionDim, d = this.cfg.dModel;
    const objective = this.facts.objective ?? "flow";
    const lv = samplerLevels(objective, steps), R = lv.length * B;
    // the conditioning of all K steps in one call (rows step-major, as model.ts tiles it)
    const ctx = new Float32Array(R * d), level = new Float64Array(R);
    lv.forEach((l, i) => (ctx.set(this.ctx!, i * B * d), level.fill(l, i * B, (i + 1) * B)));
    const cond = this.g.decoder_condition.run({ context: { data: ctx, dims: [R, d] }, level: { data: level, dims: [R] } });
    // step i's rows of every condition output, fed to decoder_denoise under the same name
    const perStep = (i: number): Record<string, Feed> => Object.fromEntries(Object.entries(cond).map(([k, f]) => {
      const row = f.data.length / R;
      return [k, { data: f.data.subarray(i * B * row, (i + 1) * B * row), dims: [B, ...f.dims.slice(1)] }];
    }));
    const conds = Array.from({ length: lv.length }, (_, i) => perStep(i));
    return sampleChunksArray(objective, steps, B * H * A, rng, (x, _l, i) => this.g.decoder_denoise.run({ x: { data: x, dims: [B, H, A] }, ...conds[i] }).prediction.data as Float32Array);
  }
}

registerOnnxExport({
  policy: "scd",
  build(meta, w) {
    const cfg = exportConfig(ScdConfig, meta.config, KNOWN, w);
    const F = meta.layout.frameDim, H = cfg.horizon, A = meta.layout.actionDim, mlp = cfg.decoder === "mlp";
    return {
      graphs: {
        encoder_step: { builder: buildGraph("encoder_step", w, (c) => encoderStep(c, cfg, F)), doc: "once per control frame: the causal encoder's incremental step over its KV cache" },
        decoder_condition: { builder: buildGraph("decoder_condition", w, (c) => (mlp ? mlpCondition : transformerCondition)(c, cfg)), doc: "once per chunk: the decoder's conditioning for every noise level" },
        decoder_denoise: { builder: buildGraph("decoder_denoise", w, (c) => (mlp ? mlpDenoise : transformerDenoise)(c, cfg, A)), doc: `once per denoising step: the light ${cfg.decoder} decoder` },
      },
      facts: {
        horizon: H,
        actionDim: A,
        defaultSteps: cfg.defaultSteps,
        objective: cfg.objective,
        runtime:
          "reset: empty past_* caches [batch, heads, 0, dh]. Per frame: encoder_step(frame, past_*) → context, present_* (next frame's past_*). Per chunk: " +
          "levels = flow: σ_i = 1 − i/K (i < K) / ddpm: t_i/100 for DDIM timesteps t_i = (K−1−i)·⌊100/K⌋; decoder_condition(context tiled K times step-major, levels) → " +
          "outputs whose rows i·B…(i+1)·B belong to step i; x ~ N(0, 1) [B, H, A]; per step i: pred = decoder_denoise(x, every condition output's rows of step i, same names); flow: x += pred·(σ_{i+1} − σ_i); " +
          "ddpm: DDIM with ε = pred, x0 clipped to [−1, 1] (squared-cosine ᾱ over 100 steps); finally clip x to [−1, 1] and unnormalize with normalizers.action.",
      },
    };
  },
  runtime: (config, facts, F, graphs) => new ScdOnnxModel(ScdConfig.parse(config), facts, F, graphs),
});
