/**
 * The entangled baseline's ONNX export (browser-safe): two graphs traced from model.ts's code, and their runtime.
 *   trunk_step  frame [B, F] (+ image_i [B, H, W, 3] per image feature, normalized, full size: the graph centre-crops
 *               and runs the image encoder, as SCD's encoder_step) + per-layer KV cache of up to `history` frames →
 *               the updated cache (CausalEncoder.step over the frame with its image features appended)
 *   denoise     noisy chunk x [B, H, A] + noise level [B] (float64) + the cache → prediction [B, H, A]; every layer
 *               runs on the H chunk tokens, attending to the cached frames and to each other (model.ts denoise)
 */
import type { ArrayModel, GraphRunner, ExportFacts, OnnxSpec } from "../registry.ts";
import { emptyCache, kvSpecs, kvOf, kvNamed, type KVState } from "../../deploy/kv.ts";
import { imageInput, imageInputSpecs, imageInputShapes, imageFeeds } from "../../deploy/image-inputs.ts";
import { sampleChunksArray, type SampleGuide } from "../../diffusion/sampler.ts";
import type { Rng } from "../../util/rng.ts";
import { ScdImageConfig } from "../../nn/image-config.ts";
import { EntangledDiffusionConfig } from "./config.ts";
import type { EntangledDiffusionModel } from "./model.ts";

class EntangledOnnxModel implements ArrayModel {
  private kv!: KVState;
  private B = 1;
  private seen = false;
  /** [H, W, 3] of each image input, read from the loaded graph's declared inputs. */
  readonly images: number[][];
  constructor(readonly cfg: EntangledDiffusionConfig, readonly facts: ExportFacts, readonly F: number, readonly g: Record<string, GraphRunner>) {
    this.images = imageInputShapes(g.trunk_step.inputs);
  }

  reset(batch: number): void {
    this.B = batch;
    this.kv = emptyCache(this.cfg.layers, batch, this.cfg.heads, this.cfg.dModel / this.cfg.heads);
    this.seen = false;
  }

  observe(frame: Float32Array, images: Float32Array[] = []): void {
    const feeds = imageFeeds(images, this.images, this.B, "entangled-diffusion");
    this.kv.update(this.g.trunk_step.run({ frame: { data: frame, dims: [this.B, this.F] }, ...feeds, ...this.kv.feeds("past") }), "present");
    this.seen = true;
  }

  sample(steps: number, rng: Rng, guide?: SampleGuide): Float32Array {
    if (!this.seen) throw new Error("entangled-diffusion (ONNX): sample before observe()");
    const B = this.B, H = this.facts.horizon, A = this.facts.actionDim;
    const cache = this.kv.feeds("cache");
    const level = new Float64Array(B);
    return sampleChunksArray(this.facts.objective ?? "flow", steps, B * H * A, rng, (x, l) => {
      level.fill(l);
      return this.g.denoise.run({ x: { data: x, dims: [B, H, A] }, level: { data: level, dims: [B] }, ...cache }).prediction.data as Float32Array;
    }, guide);
  }
}

export const ENTANGLED_DIFFUSION_ONNX: OnnxSpec<EntangledDiffusionConfig, EntangledDiffusionModel> = {
  graphs: (cfg, L) => {
    const dh = cfg.dModel / cfg.heads, H = cfg.horizon, A = L.actionDim;
    const crop = (cfg.image ?? ScdImageConfig.parse({})).crop;
    const images = imageInputSpecs(L.images, crop);
    return {
      trunk_step: {
        doc: "once per control frame: the frame's pass through every layer, caching its keys/values",
        inputs: [
          { name: "frame", dtype: "float32", shape: ["batch", L.frameDim], doc: "normalized frame: observation features, previous action, first-frame flag" },
          ...images,
          ...kvSpecs("past", cfg.layers, cfg.heads, dh, `keys/values of the previous frames, oldest first (at most history = ${cfg.history}; 0 at the first frame)`),
        ],
        outputs: kvSpecs("present", cfg.layers, cfg.heads, dh, "the cache to pass as past_* with the next frame and to denoise"),
        trace: (m, o, x) => {
          const input = m.imagePath.append(o, x.frame, images.map((_, i) => m.imagePath.centerCrop(o, x[imageInput(i)], i)), [0]); // [B, F + images·dOut]
          return kvNamed(m.trunk.step(o, input, kvOf(x, "past", cfg.layers)).present, "present");
        },
      },
      denoise: {
        doc: "once per denoising step: every layer on the chunk tokens over the cached frames",
        inputs: [
          { name: "x", dtype: "float32", shape: ["batch", H, A], doc: "noisy chunk (normalized actions)" },
          { name: "level", dtype: "float64", shape: ["batch"], doc: "noise level in [0, 1]: σ (flow) or t/100 (ddpm)" },
          ...kvSpecs("cache", cfg.layers, cfg.heads, dh, "keys/values of the frames (trunk_step's present_*)"),
        ],
        outputs: [{ name: "prediction", dtype: "float32", shape: ["batch", H, A], doc: "velocity (flow) or ε (ddpm)" }],
        trace: (m, o, x) => ({ prediction: m.denoise(o, x.x, x.level, kvOf(x, "cache", cfg.layers)) }),
      },
    };
  },
  facts: (cfg, L) => ({
    horizon: cfg.horizon,
    actionDim: L.actionDim,
    defaultSteps: cfg.defaultSteps,
    objective: cfg.objective,
    runtime:
      "reset: empty past_* caches [batch, heads, 0, dh]. Per frame: trunk_step(frame, image_i (each image feature normalized, full size; none without images), past_*) → present_* (next frame's past_*). Per chunk: x ~ N(0, 1) [B, H, A]; " +
      "per step i: pred = denoise(x, level_i, cache_* = the latest present_*); flow: σ_i = 1 − i/K, x += pred·(σ_{i+1} − σ_i); ddpm: DDIM over t_i = (K−1−i)·⌊100/K⌋, level t_i/100, " +
      "x0 clipped to [−1, 1]; finally clip x to [−1, 1] and unnormalize with normalizers.action.",
  }),
  runtime: (config, facts, F, graphs) => new EntangledOnnxModel(EntangledDiffusionConfig.parse(config), facts, F, graphs),
};
