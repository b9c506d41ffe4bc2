/**
 * SCD's two decoders as ONNX graph pairs (weights by name, the math of model.ts and mlp-decoder.ts):
 * decoder_condition (context [R, d] + level [R] → the x-independent conditioning, once per chunk for all K levels)
 * and decoder_denoise (x [B, H, A] + one step's conditioning → prediction). Every condition output is a graph input
 * of decoder_denoise with the same name, rows step-major, so the runtime passes them through by name.
 */
import { type Ctx, linear, layerNorm, block, gelu, levelEmbedding } from "../../deploy/onnx-nn.ts";
import type { ScdConfig } from "./config.ts";

const LEVEL_DIM = 64; // model.ts, mlp-decoder.ts

function condInputs({ g }: Ctx, cfg: ScdConfig): { ctx: string; level: string } {
  return {
    ctx: g.input({ name: "context", dtype: "float32", shape: ["rows", cfg.dModel], doc: "encoder context, one row per (denoising step, stream), step-major" }),
    level: g.input({ name: "level", dtype: "float64", shape: ["rows"], doc: "noise level in [0, 1]: σ (flow) or t/100 (ddpm)" }),
  };
}

/** time2(relu(time1(embedding(level)))) [R, w]. */
function timeEmbedding(c: Ctx, level: string, w: number): string {
  return linear(c, linear(c, levelEmbedding(c, level, LEVEL_DIM), "decoder.time1", LEVEL_DIM, w, "relu"), "decoder.time2", w, w);
}

/** Transformer decoder (model.ts ChunkDecoder.condition). */
export function transformerCondition(c: Ctx, cfg: ScdConfig): void {
  const { g, w } = c;
  const d = cfg.decDModel, H = cfg.horizon;
  const { ctx, level } = condInputs(c, cfg);
  const temb = g.op1("Unsqueeze", [timeEmbedding(c, level, d), g.const("int64", [1])]); // [R, 1, d]
  const pos = w.get("decoder.pos", [H + 1, d]);
  const p0 = g.weight("decoder.pos[0]", pos.slice(0, d), [1, d]), pa = g.weight("decoder.pos[1:]", pos.slice(d), [H, d]);
  const ctxTok = g.op1("Add", [g.op1("Add", [g.op1("Unsqueeze", [linear(c, ctx, "decoder.ctx", cfg.dModel, d), g.const("int64", [1])]), p0]), temb]);
  g.output(ctxTok, { name: "context_token", dtype: "float32", shape: ["rows", 1, d] });
  g.output(g.op1("Add", [pa, temb]), { name: "action_bias", dtype: "float32", shape: ["rows", H, d] });
}

/** Transformer decoder (model.ts ChunkDecoder.denoise): [context token ; H action tokens] → [B, H, A]. */
export function transformerDenoise(c: Ctx, cfg: ScdConfig, A: number): void {
  const { g } = c;
  const d = cfg.decDModel, H = cfg.horizon;
  const x = g.input({ name: "x", dtype: "float32", shape: ["batch", H, A], doc: "noisy chunk (normalized actions)" });
  const ctxTok = g.input({ name: "context_token", dtype: "float32", shape: ["batch", 1, d], doc: "decoder_condition output for this step" });
  const actBias = g.input({ name: "action_bias", dtype: "float32", shape: ["batch", H, d], doc: "decoder_condition output for this step" });
  let h = g.op1("Concat", [ctxTok, g.op1("Add", [linear(c, x, "decoder.actIn", A, d), actBias])], { axis: 1 }); // [B, H+1, d]
  for (let i = 0; i < cfg.decLayers; i++) h = block(c, h, `decoder.block${i}`, d, cfg.decHeads, cfg.mlpRatio, null, null).y;
  const tokens = g.op1("Slice", [layerNorm(c, h, "decoder.ln", d), g.const("int64", [1]), g.const("int64", [H + 1]), g.const("int64", [1])]);
  g.output(linear(c, tokens, "decoder.out", d, A), { name: "prediction", dtype: "float32", shape: ["batch", H, A], doc: "velocity (flow) or ε (ddpm)" });
}

/** FiLM MLP decoder (mlp-decoder.ts MlpDecoder.condition): per block, scale and shift [R, 2w]. */
export function mlpCondition(c: Ctx, cfg: ScdConfig): void {
  const { g } = c;
  const w = cfg.decDModel;
  const { ctx, level } = condInputs(c, cfg);
  const cond = gelu(c, g.op1("Add", [linear(c, ctx, "decoder.ctx", cfg.dModel, w), timeEmbedding(c, level, w)])); // [R, w]
  const half = (x: string, from: number) => g.op1("Slice", [x, g.const("int64", [from]), g.const("int64", [from + 2 * w]), g.const("int64", [1])]);
  for (let i = 0; i < cfg.decLayers; i++) {
    const f = linear(c, cond, `decoder.film${i}`, w, 4 * w); // [R, 4w] = [scale | shift]
    g.output(half(f, 0), { name: `film_scale_${i}`, dtype: "float32", shape: ["rows", 2 * w] });
    g.output(half(f, 2 * w), { name: `film_shift_${i}`, dtype: "float32", shape: ["rows", 2 * w] });
  }
}

/** FiLM MLP decoder (MlpDecoder.denoise): h = in(flat x); h += fc2(gelu(fc1(ln(h))·(1 + scale) + shift)). */
export function mlpDenoise(c: Ctx, cfg: ScdConfig, A: number): void {
  const { g } = c;
  const w = cfg.decDModel, H = cfg.horizon;
  const x = g.input({ name: "x", dtype: "float32", shape: ["batch", H, A], doc: "noisy chunk (normalized actions)" });
  let h = linear(c, g.op1("Reshape", [x, g.const("int64", [-1, H * A])]), "decoder.in", H * A, w); // [B, w]
  for (let i = 0; i < cfg.decLayers; i++) {
    const scale = g.input({ name: `film_scale_${i}`, dtype: "float32", shape: ["batch", 2 * w], doc: "decoder_condition output for this step" });
    const shift = g.input({ name: `film_shift_${i}`, dtype: "float32", shape: ["batch", 2 * w], doc: "decoder_condition output for this step" });
    const z = g.op1("Add", [g.op1("Mul", [linear(c, layerNorm(c, h, `decoder.block${i}.ln`, w), `decoder.block${i}.fc1`, w, 2 * w), g.op1("Add", [scale, g.scalar(1)])]), shift]);
    h = g.op1("Add", [h, linear(c, gelu(c, z), `decoder.block${i}.fc2`, 2 * w, w)]);
  }
  const y = g.op1("Reshape", [linear(c, layerNorm(c, h, "decoder.ln", w), "decoder.out", w, H * A), g.const("int64", [-1, H, A])]);
  g.output(y, { name: "prediction", dtype: "float32", shape: ["batch", H, A], doc: "velocity (flow) or ε (ddpm)" });
}
