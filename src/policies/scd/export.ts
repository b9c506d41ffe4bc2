/**
 * SCD's ONNX export (browser-safe): three graphs, each traced from model.ts's own code, and the runtime that drives
 * them per control frame.
 *   encoder_step      frame [B, F] (+ image_i [B, H, W, 3] per image feature, normalized, full size: the graph
 *                     centre-crops and runs the image encoder, ScdModel.encoderInput) + per-layer KV cache →
 *                     context [B, d] + the updated cache (last history−1 frames) (CausalEncoder.step). One graph, not
 *                     a separate image one: the image features never leave it, and a frame stays one runtime call
 *   decoder_condition context [R, d] + noise level [R] (float64) → the decoder's conditioning: context token and
 *                     action bias for the transformer decoder, FiLM scale/shift per block for the MLP one (condition)
 *   decoder_denoise   noisy chunk x [B, H, A] + one step's conditioning → prediction [B, H, A], velocity or ε (denoise)
 *   decoder_sample    context [B, d] + initial noise [B, H, A] (+ a guide to continue) → the finished chunk: the
 *                     shared sampling loop (src/diffusion/sampler.ts) traced for the default K, so a chunk is one
 *                     runtime call instead of K + 1 (optional: exports made before it lack it)
 * Per frame: one encoder_step; per chunk at the default K: one decoder_sample; at any other K: one decoder_condition
 * over all K levels (R = K·B) and K decoder_denoise calls inside the same sampling loop.
 */
import type { ArrayModel, Feed, GraphRunner, ExportFacts, OnnxSpec, ValueSpec } from "../registry.ts";
import { emptyCache, kvSpecs, kvOf, kvNamed, type KVState } from "../../deploy/kv.ts";
import { imageInput, imageInputSpecs, imageInputShapes, imageFeeds } from "../../deploy/image-inputs.ts";
import { sampleChunksArray, samplerLevels, sampleLoop, opsChunkOps, tileGuide, requireGradientFree, type SampleGuide } from "../../diffusion/sampler.ts";
import type { Rng } from "../../util/rng.ts";
import { ScdConfig, ScdImageConfig } from "./config.ts";
import type { ScdModel } from "./model.ts";

/** The decoder's named conditioning (decoder_condition's outputs, decoder_denoise's inputs) with `rows` rows. */
function condSpecs(cfg: ScdConfig, rows: string, doc?: string): ValueSpec[] {
  const v = (name: string, shape: (number | string)[]): ValueSpec => ({ name, dtype: "float32", shape, ...(doc ? { doc } : {}) });
  if (cfg.decoder === "mlp") return Array.from({ length: cfg.decLayers }, (_, i) => [v(`film_scale_${i}`, [rows, 2 * cfg.decDModel]), v(`film_shift_${i}`, [rows, 2 * cfg.decDModel])]).flat();
  return [v("context_token", [rows, 1, cfg.decDModel]), v("action_bias", [rows, cfg.horizon, cfg.decDModel])];
}

class ScdOnnxModel implements ArrayModel {
  private kv!: KVState;
  private ctx: Float32Array | null = null;
  private B = 1;
  /** [H, W, 3] of each image input, read from the loaded graph's declared inputs. */
  readonly images: number[][];
  constructor(readonly cfg: ScdConfig, readonly facts: ExportFacts, readonly F: number, readonly g: Record<string, GraphRunner>) {
    this.images = imageInputShapes(g.encoder_step.inputs);
  }

  reset(batch: number): void {
    this.B = batch;
    this.kv = emptyCache(this.cfg.encLayers, batch, this.cfg.heads, this.cfg.dModel / this.cfg.heads);
    this.ctx = null;
  }

  observe(frame: Float32Array, images: Float32Array[] = []): void {
    const feeds = imageFeeds(images, this.images, this.B, "scd");
    const r = this.g.encoder_step.run({ frame: { data: frame, dims: [this.B, this.F] }, ...feeds, ...this.kv.feeds("past") });
    this.kv.update(r, "present");
    this.ctx = r.context.data as Float32Array;
  }

  sample(steps: number, rng: Rng, guide?: SampleGuide): Float32Array {
    if (!this.ctx) throw new Error("scd (ONNX): sample before observe()");
    const { B } = this, H = this.facts.horizon, A = this.facts.actionDim, d = this.cfg.dModel;
    const objective = this.facts.objective ?? "flow";
    const fused = this.g.decoder_sample;
    if (fused && steps === this.facts.defaultSteps) {
      // the noise drawn exactly as sampleChunksArray draws it, so both paths give the same chunk
      const size = B * H * A, dims = [B, H, A];
      const noise = Float32Array.from(rng.normals(size));
      requireGradientFree(guide, "ONNX Runtime sampling");
      const g = tileGuide(guide, size) ?? { target: new Float32Array(size), weights: new Float32Array(size) };
      const r = fused.run({ context: { data: this.ctx, dims: [B, d] }, noise: { data: noise, dims }, guide_target: { data: g.target, dims }, guide_weights: { data: g.weights, dims } });
      return r.chunk.data as Float32Array;
    }
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
    return sampleChunksArray(objective, steps, B * H * A, rng, (x, _l, i) => this.g.decoder_denoise.run({ x: { data: x, dims: [B, H, A] }, ...conds[i] }).prediction.data as Float32Array, guide);
  }
}

export const SCD_ONNX: OnnxSpec<ScdConfig, ScdModel> = {
  graphs: (cfg, L) => {
    const d = cfg.dModel, dh = d / cfg.heads, H = cfg.horizon, A = L.actionDim;
    const crop = (cfg.image ?? ScdImageConfig.parse({})).crop;
    const images = imageInputSpecs(L.images, crop);
    return {
      encoder_step: {
        doc: "once per control frame: the causal encoder's incremental step over its KV cache",
        inputs: [
          { name: "frame", dtype: "float32", shape: ["batch", L.frameDim], doc: "normalized frame: observation features, previous action, first-frame flag" },
          ...images,
          ...kvSpecs("past", cfg.encLayers, cfg.heads, dh, `keys/values of the previous frames, oldest first (at most history − 1 = ${cfg.history - 1}; 0 at the first frame)`),
        ],
        outputs: [
          { name: "context", dtype: "float32", shape: ["batch", d], doc: "encoder output at this frame" },
          ...kvSpecs("present", cfg.encLayers, cfg.heads, dh, "the cache to pass as past_* with the next frame"),
        ],
        trace: (m, o, x) => {
          const input = m.encoderInput(o, x.frame, images.map((_, i) => m.centerCrop(o, x[imageInput(i)], i)), [0]); // [B, F + images·dOut]
          const r = m.encoder.step(o, input, kvOf(x, "past", cfg.encLayers));
          return { context: r.context, ...kvNamed(r.present, "present") };
        },
      },
      decoder_condition: {
        doc: "once per chunk: the decoder's conditioning for every noise level",
        inputs: [
          { name: "context", dtype: "float32", shape: ["rows", d], doc: "encoder context, one row per (denoising step, stream), step-major" },
          { name: "level", dtype: "float64", shape: ["rows"], doc: "noise level in [0, 1]: σ (flow) or t/100 (ddpm)" },
        ],
        outputs: condSpecs(cfg, "rows"),
        trace: (m, o, x) => m.decoder.condition(o, x.context, x.level),
      },
      decoder_denoise: {
        doc: `once per denoising step: the light ${cfg.decoder} decoder`,
        inputs: [{ name: "x", dtype: "float32", shape: ["batch", H, A], doc: "noisy chunk (normalized actions)" }, ...condSpecs(cfg, "batch", "decoder_condition output for this step")],
        outputs: [{ name: "prediction", dtype: "float32", shape: ["batch", H, A], doc: "velocity (flow) or ε (ddpm)" }],
        trace: (m, o, { x, ...cond }) => ({ prediction: m.decoder.denoise(o, cond, x) }),
      },
      decoder_sample: {
        doc: `once per chunk at the default K = ${cfg.defaultSteps}: conditioning and all K denoising steps of the sampling loop in one graph`,
        optional: true,
        inputs: [
          { name: "context", dtype: "float32", shape: ["batch", d], doc: "encoder output at this frame (encoder_step's context)" },
          { name: "noise", dtype: "float32", shape: ["batch", H, A], doc: "the initial noise x ~ N(0, 1)" },
          { name: "guide_target", dtype: "float32", shape: ["batch", H, A], doc: "a chunk to continue (real-time chunking), normalized; zeros for none" },
          { name: "guide_weights", dtype: "float32", shape: ["batch", H, A], doc: "how hard each value is pulled to guide_target, in [0, 1]; zeros for none" },
        ],
        outputs: [{ name: "chunk", dtype: "float32", shape: ["batch", H, A], doc: "the sampled chunk, normalized actions clipped to [−1, 1]" }],
        trace: (m, o, x) => {
          const conds = samplerLevels(cfg.objective, cfg.defaultSteps).map((l) => m.decoder.condition(o, x.context, [l]));
          const guide = { target: x.guide_target, weights: x.guide_weights };
          return { chunk: sampleLoop(cfg.objective, cfg.defaultSteps, x.noise, opsChunkOps(o), (xi, _l, i) => m.decoder.denoise(o, conds[i], xi), guide) };
        },
      },
    };
  },
  facts: (cfg, L) => ({
    horizon: cfg.horizon,
    actionDim: L.actionDim,
    defaultSteps: cfg.defaultSteps,
    objective: cfg.objective,
    runtime:
      "reset: empty past_* caches [batch, heads, 0, dh]. Per frame: encoder_step(frame, image_i (each image feature normalized, full size; none without images), past_*) → context, present_* (next frame's past_*). Per chunk: " +
      "levels = flow: σ_i = 1 − i/K (i < K) / ddpm: t_i/100 for DDIM timesteps t_i = (K−1−i)·⌊100/K⌋; decoder_condition(context tiled K times step-major, levels) → " +
      "outputs whose rows i·B…(i+1)·B belong to step i; x ~ N(0, 1) [B, H, A]; per step i: pred = decoder_denoise(x, every condition output's rows of step i, same names); flow: x += pred·(σ_{i+1} − σ_i); " +
      "ddpm: DDIM with ε = pred, x0 clipped to [−1, 1] (squared-cosine ᾱ over 100 steps); finally clip x to [−1, 1] and unnormalize with normalizers.action.",
  }),
  runtime: (config, facts, F, graphs) => new ScdOnnxModel(ScdConfig.parse(config), facts, F, graphs),
};
