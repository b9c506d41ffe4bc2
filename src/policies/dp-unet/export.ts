/**
 * dp-unet's ONNX export (browser-safe): two graphs traced from model.ts's code (ONNX's Conv, ConvTranspose and
 * InstanceNormalization where tfjs runs im2col), and their runtime.
 *   condition  observation history [R, nObs·F] + noise level [R] (float64, t/100) → every residual block's FiLM
 *              [scale ; bias], concatenated in forward order: films [R, Σ 2·C]
 *   denoise    noisy chunk x [B, H, A] + one step's films → ε [B, H, A]
 * Per chunk: one condition call over all K levels (R = K·B) and K denoise calls inside the shared DDIM loop.
 */
import type { ArrayModel, ExportFacts, GraphRunner, OnnxSpec } from "../registry.ts";
import { sampleChunksArray, samplerLevels, type SampleGuide } from "../../diffusion/sampler.ts";
import type { Rng } from "../../util/rng.ts";
import { DpUnetConfig } from "./config.ts";
import type { DpUnetModel } from "./model.ts";

/** Σ 2·C over the residual blocks (model.ts): two per level down, two in the middle, two per level up. */
function filmWidth(cfg: DpUnetConfig): number {
  const d = cfg.downDims, sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return 4 * (sum(d) + d.at(-1)! + sum(d.slice(0, -1)));
}

class DpUnetOnnxModel implements ArrayModel {
  private recent: Float32Array[] = [];
  private B = 1;
  constructor(readonly cfg: DpUnetConfig, readonly facts: ExportFacts, readonly F: number, readonly g: Record<string, GraphRunner>) {}

  reset(batch: number): void {
    this.B = batch;
    this.recent = [];
  }

  observe(frame: Float32Array): void {
    if (!this.recent.length) this.recent = Array.from({ length: this.cfg.nObsSteps }, () => frame.slice());
    else {
      this.recent.shift();
      this.recent.push(frame.slice());
    }
  }

  sample(steps: number, rng: Rng, guide?: SampleGuide): Float32Array {
    if (!this.recent.length) throw new Error("dp-unet (ONNX): sample before observe()");
    const { B, F } = this, K = this.cfg.nObsSteps, H = this.facts.horizon, A = this.facts.actionDim;
    const lv = samplerLevels("ddpm", steps), S = lv.length, row = K * F;
    const obs = new Float32Array(S * B * row), level = new Float64Array(S * B);
    for (let s = 0; s < S; s++)
      for (let b = 0; b < B; b++) {
        this.recent.forEach((f, k) => obs.set(f.subarray(b * F, (b + 1) * F), (s * B + b) * row + k * F));
        level[s * B + b] = lv[s];
      }
    const films = this.g.condition.run({ obs: { data: obs, dims: [S * B, row] }, level: { data: level, dims: [S * B] } }).films.data as Float32Array;
    const wid = films.length / (S * B);
    return sampleChunksArray("ddpm", steps, B * H * A, rng, (x, _l, i) =>
      this.g.denoise.run({ x: { data: x, dims: [B, H, A] }, films: { data: films.subarray(i * B * wid, (i + 1) * B * wid), dims: [B, wid] } }).eps.data as Float32Array, guide);
  }
}

export const DP_UNET_ONNX: OnnxSpec<DpUnetConfig, DpUnetModel> = {
  graphs: (cfg, L) => {
    const H = cfg.horizon, A = L.actionDim, W = filmWidth(cfg);
    return {
      condition: {
        doc: "once per chunk: the FiLM parameters of every residual block for every noise level",
        inputs: [
          { name: "obs", dtype: "float32", shape: ["rows", cfg.nObsSteps * L.frameDim], doc: `the last ${cfg.nObsSteps} normalized frames, oldest first (the first frame after reset repeated), one row per (denoising step, stream)` },
          { name: "level", dtype: "float64", shape: ["rows"], doc: "noise level t/100 of the DDIM timestep t" },
        ],
        outputs: [{ name: "films", dtype: "float32", shape: ["rows", W], doc: "every residual block's FiLM [scale ; bias], blocks in forward order" }],
        trace: (m, o, x) => ({ films: m.condition(o, x.obs, x.level) }),
      },
      denoise: {
        doc: "once per denoising step: the U-Net",
        inputs: [
          { name: "x", dtype: "float32", shape: ["batch", H, A], doc: "noisy chunk (normalized actions)" },
          { name: "films", dtype: "float32", shape: ["batch", W], doc: "condition output for this step" },
        ],
        outputs: [{ name: "eps", dtype: "float32", shape: ["batch", H, A], doc: "predicted noise ε" }],
        trace: (m, o, x) => ({ eps: m.denoise(o, x.films, x.x) }),
      },
    };
  },
  facts: (cfg, L) => ({
    horizon: cfg.horizon,
    actionDim: L.actionDim,
    defaultSteps: cfg.defaultSteps,
    objective: "ddpm",
    runtime:
      `keep the last ${cfg.nObsSteps} frames (after reset the first frame fills them all). Per chunk: levels t_i/100 for DDIM timesteps t_i = (K−1−i)·⌊100/K⌋; ` +
      "condition(frames flattened oldest first, tiled K times step-major, levels) → rows i·B…(i+1)·B belong to step i; x ~ N(0, 1) [B, H, A]; per step i: " +
      "ε = denoise(x, films of step i); DDIM with x0 clipped to [−1, 1] (squared-cosine ᾱ over 100 steps); finally clip x to [−1, 1] and unnormalize with normalizers.action.",
  }),
  runtime: (config, facts, F, graphs) => new DpUnetOnnxModel(DpUnetConfig.parse(config), facts, F, graphs),
};
