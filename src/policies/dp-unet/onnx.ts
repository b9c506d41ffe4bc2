/**
 * dp-unet as ONNX: two graphs from the checkpoint's weights by name (model.ts's math; ONNX's own Conv,
 * ConvTranspose and InstanceNormalization on channels-first [B, C, T] where model.ts uses im2col channels-last).
 *   condition  observation history [R, nObs·F] + noise level [R] (float64, t/100) → every residual block's FiLM
 *              [scale ; bias], concatenated in forward order: films [R, Σ 2·C]
 *   denoise    noisy chunk x [B, H, A] + one step's films → ε [B, H, A]
 * Per chunk: one condition call over all K levels (R = K·B) and K denoise calls inside the shared DDIM loop.
 */
import { type Ctx, buildGraph, linear } from "../../deploy/onnx-nn.ts";
import { registerOnnxExport, type ArrayModel, type ExportFacts, type GraphRunner } from "../../deploy/runtime.ts";
import { exportConfig } from "../../deploy/kv.ts";
import { sampleChunksArray, samplerLevels } from "../../diffusion/sampler.ts";
import { DDPM_TRAIN_STEPS } from "../../diffusion/schedules.ts";
import type { Rng } from "../../util/rng.ts";
import { DpUnetConfig } from "./config.ts";

const KNOWN = ["horizon", "nObsSteps", "downDims", "kernelSize", "nGroups", "stepEmbedDim", "defaultSteps"];

/** The residual blocks in forward order with their channels (model.ts's constructor, by name). */
function resBlocks(cfg: DpUnetConfig, A: number): { name: string; cIn: number; cOut: number }[] {
  const d = cfg.downDims, dims = [A, ...d], out: { name: string; cIn: number; cOut: number }[] = [];
  d.forEach((c, i) => out.push({ name: `down${i}.res0`, cIn: dims[i], cOut: c }, { name: `down${i}.res1`, cIn: c, cOut: c }));
  out.push({ name: "mid0", cIn: d.at(-1)!, cOut: d.at(-1)! }, { name: "mid1", cIn: d.at(-1)!, cOut: d.at(-1)! });
  d.slice(0, -1).forEach((_, j) => {
    const i = d.length - 2 - j;
    out.push({ name: `up${j}.res0`, cIn: 2 * d[i + 1], cOut: d[i] }, { name: `up${j}.res1`, cIn: d[i], cOut: d[i] });
  });
  return out;
}

const mish = ({ g }: Ctx, x: string) => g.op1("Mul", [x, g.op1("Tanh", [g.op1("Softplus", [x])])]);

/** Conv1d on [B, cIn, T]; model.ts's weight [k·cIn, cOut] (tap-major rows) → ONNX's [cOut, cIn, k]. */
function conv({ g, w }: Ctx, x: string, name: string, cIn: number, cOut: number, k: number, stride = 1): string {
  const src = w.get(`${name}.w`, [k * cIn, cOut]), W = new Float32Array(src.length);
  for (let i = 0; i < k; i++) for (let c = 0; c < cIn; c++) for (let o = 0; o < cOut; o++) W[(o * cIn + c) * k + i] = src[(i * cIn + c) * cOut + o];
  const p = stride === 1 ? (k - 1) / 2 : 1;
  return g.op1("Conv", [x, g.weight(`${name}.w`, W, [cOut, cIn, k]), g.weight(`${name}.b`, w.get(`${name}.b`, [cOut]), [cOut])], { kernel_shape: [k], strides: [stride], pads: [p, p] });
}

/** GroupNorm on [B, C, T]: groups as InstanceNormalization's channels, then the per-channel affine. */
function groupNorm(c: Ctx, x: string, name: string, C: number, G: number): string {
  const { g, w } = c;
  const xg = g.op1("Reshape", [x, g.const("int64", [0, G, -1])]);
  const n = g.op1("InstanceNormalization", [xg, g.const("float32", new Array(G).fill(1)), g.const("float32", new Array(G).fill(0))], { epsilon: { float: 1e-5 } });
  const y = g.op1("Reshape", [n, g.op1("Shape", [x])]);
  return g.op1("Add", [g.op1("Mul", [y, g.weight(`${name}.g`, w.get(`${name}.g`, [C]), [C, 1])]), g.weight(`${name}.b`, w.get(`${name}.b`, [C]), [C, 1])]);
}

function convBlock(c: Ctx, x: string, name: string, cIn: number, cOut: number, cfg: DpUnetConfig): string {
  return mish(c, groupNorm(c, conv(c, x, `${name}.conv`, cIn, cOut, cfg.kernelSize), `${name}.norm`, cOut, cfg.nGroups));
}

function conditionGraph(c: Ctx, cfg: DpUnetConfig, F: number, A: number): void {
  const { g } = c;
  const dsed = cfg.stepEmbedDim, half = dsed / 2, condDim = dsed + cfg.nObsSteps * F;
  const obs = g.input({ name: "obs", dtype: "float32", shape: ["rows", cfg.nObsSteps * F], doc: `the last ${cfg.nObsSteps} normalized frames, oldest first (the first frame after reset repeated), one row per (denoising step, stream)` });
  const level = g.input({ name: "level", dtype: "float64", shape: ["rows"], doc: "noise level t/100 of the DDIM timestep t" });
  // DP's SinusoidalPosEmb of the integer step, in float64 as model.ts computes it
  const t = g.op1("Round", [g.op1("Mul", [level, g.const("float64", [DDPM_TRAIN_STEPS], [])])]);
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) / (half - 1)) * i));
  const arg = g.op1("Mul", [g.op1("Unsqueeze", [t, g.const("int64", [1])]), g.const("float64", freqs, [1, half])]);
  const emb = g.op1("Cast", [g.op1("Concat", [g.op1("Sin", [arg]), g.op1("Cos", [arg])], { axis: 1 })], { to: 1 });
  const temb = linear(c, mish(c, linear(c, emb, "step.fc1", dsed, 4 * dsed)), "step.fc2", 4 * dsed, dsed);
  const cond = mish(c, g.op1("Concat", [temb, obs], { axis: 1 }));
  const films = resBlocks(cfg, A).map((b) => linear(c, cond, `${b.name}.film`, condDim, 2 * b.cOut));
  g.output(g.op1("Concat", films, { axis: 1 }), { name: "films", dtype: "float32", shape: ["rows", filmWidth(cfg, A)], doc: "every residual block's FiLM [scale ; bias], blocks in forward order" });
}

const filmWidth = (cfg: DpUnetConfig, A: number) => resBlocks(cfg, A).reduce((s, b) => s + 2 * b.cOut, 0);

function denoiseGraph(c: Ctx, cfg: DpUnetConfig, A: number): void {
  const { g, w } = c;
  const H = cfg.horizon;
  const x = g.input({ name: "x", dtype: "float32", shape: ["batch", H, A], doc: "noisy chunk (normalized actions)" });
  const films = g.input({ name: "films", dtype: "float32", shape: ["batch", filmWidth(cfg, A)], doc: "condition output for this step" });
  let off = 0;
  const res = (h: string, b: { name: string; cIn: number; cOut: number }) => {
    const cut = (a: number) => g.op1("Unsqueeze", [g.op1("Slice", [films, g.const("int64", [a]), g.const("int64", [a + b.cOut]), g.const("int64", [1])]), g.const("int64", [2])]); // [B, C, 1]
    const [scale, bias] = [cut(off), cut(off + b.cOut)];
    off += 2 * b.cOut;
    const y = g.op1("Add", [g.op1("Mul", [convBlock(c, h, `${b.name}.block0`, b.cIn, b.cOut, cfg), scale]), bias]);
    const r = b.cIn === b.cOut ? h : conv(c, h, `${b.name}.residual`, b.cIn, b.cOut, 1);
    return g.op1("Add", [convBlock(c, y, `${b.name}.block1`, b.cOut, b.cOut, cfg), r]);
  };
  const blocks = resBlocks(cfg, A);
  let h = g.op1("Transpose", [x], { perm: [0, 2, 1] }); // [B, A, H]
  const skips: string[] = [];
  cfg.downDims.forEach((ch, i) => {
    h = res(res(h, blocks.shift()!), blocks.shift()!);
    skips.push(h);
    if (i < cfg.downDims.length - 1) h = conv(c, h, `down${i}.downsample`, ch, ch, 3, 2);
  });
  h = res(res(h, blocks.shift()!), blocks.shift()!);
  cfg.downDims.slice(0, -1).forEach((_, j) => {
    const C = cfg.downDims[cfg.downDims.length - 2 - j];
    h = res(res(g.op1("Concat", [h, skips.pop()!], { axis: 1 }), blocks.shift()!), blocks.shift()!);
    // model.ts's [4, cIn, cOut] taps → ConvTranspose's [cIn, cOut, 4]
    const src = w.get(`up${j}.upsample.w`, [4, C, C]), W = new Float32Array(src.length);
    for (let t = 0; t < 4; t++) for (let ci = 0; ci < C; ci++) for (let co = 0; co < C; co++) W[(ci * C + co) * 4 + t] = src[(t * C + ci) * C + co];
    h = g.op1("ConvTranspose", [h, g.weight(`up${j}.upsample.w`, W, [C, C, 4]), g.weight(`up${j}.upsample.b`, w.get(`up${j}.upsample.b`, [C]), [C])], { kernel_shape: [4], strides: [2], pads: [1, 1] });
  });
  const d0 = cfg.downDims[0];
  h = conv(c, convBlock(c, h, "final.block", d0, d0, cfg), "final.conv", d0, A, 1);
  g.output(g.op1("Transpose", [h], { perm: [0, 2, 1] }), { name: "eps", dtype: "float32", shape: ["batch", H, A], doc: "predicted noise ε" });
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

  sample(steps: number, rng: Rng): Float32Array {
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
      this.g.denoise.run({ x: { data: x, dims: [B, H, A] }, films: { data: films.subarray(i * B * wid, (i + 1) * B * wid), dims: [B, wid] } }).eps.data as Float32Array);
  }
}

registerOnnxExport({
  policy: "dp-unet",
  build(meta, w) {
    const cfg = exportConfig(DpUnetConfig, meta.config, KNOWN, w);
    const F = meta.layout.frameDim, A = meta.layout.actionDim;
    return {
      graphs: {
        condition: { builder: buildGraph("condition", w, (c) => conditionGraph(c, cfg, F, A)), doc: "once per chunk: the FiLM parameters of every residual block for every noise level" },
        denoise: { builder: buildGraph("denoise", w, (c) => denoiseGraph(c, cfg, A)), doc: "once per denoising step: the U-Net" },
      },
      facts: {
        horizon: cfg.horizon,
        actionDim: A,
        defaultSteps: cfg.defaultSteps,
        objective: "ddpm",
        runtime:
          `keep the last ${cfg.nObsSteps} frames (after reset the first frame fills them all). Per chunk: levels t_i/100 for DDIM timesteps t_i = (K−1−i)·⌊100/K⌋; ` +
          "condition(frames flattened oldest first, tiled K times step-major, levels) → rows i·B…(i+1)·B belong to step i; x ~ N(0, 1) [B, H, A]; per step i: " +
          "ε = denoise(x, films of step i); DDIM with x0 clipped to [−1, 1] (squared-cosine ᾱ over 100 steps); finally clip x to [−1, 1] and unnormalize with normalizers.action.",
      },
    };
  },
  runtime: (config, facts, F, graphs) => new DpUnetOnnxModel(DpUnetConfig.parse(config), facts, F, graphs),
});
