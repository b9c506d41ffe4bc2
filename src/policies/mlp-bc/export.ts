/**
 * MLP-BC's ONNX export (browser-safe): one graph, `policy`, traced from model.ts's `policy`: the last `history`
 * frames, flattened [B, history·F] → chunk [B, H, A] clipped to [−1, 1]. The frame history is kept in TypeScript
 * (model.ts's stackFrames), as on tfjs.
 */
import type { ArrayModel, GraphRunner, OnnxSpec } from "../registry.ts";
import { MlpBcConfig } from "./config.ts";
import { stackFrames, type MlpBcModel } from "./model.ts";

class MlpBcOnnxModel implements ArrayModel {
  private recent: Float32Array[] = [];
  private B = 1;
  constructor(readonly cfg: MlpBcConfig, readonly F: number, readonly g: GraphRunner) {}
  reset(batch: number): void {
    this.B = batch;
    this.recent = [];
  }
  observe(frame: Float32Array): void {
    this.recent.push(frame.slice());
    if (this.recent.length > this.cfg.history) this.recent.shift();
  }
  sample(): Float32Array {
    if (!this.recent.length) throw new Error("mlp-bc (ONNX): sample before observe()");
    const K = this.cfg.history;
    return this.g.run({ frames: { data: stackFrames(this.recent, K, this.F), dims: [this.B, K * this.F] } }).action.data as Float32Array;
  }
}

export const MLP_BC_ONNX: OnnxSpec<MlpBcConfig, MlpBcModel> = {
  graphs: (cfg, L) => ({
    policy: {
      doc: "once per chunk: the MLP over the recent frames",
      inputs: [{ name: "frames", dtype: "float32", shape: ["batch", cfg.history * L.frameDim], doc: `the last ${cfg.history} normalized frames, oldest first, zeros before the episode start` }],
      outputs: [{ name: "action", dtype: "float32", shape: ["batch", cfg.horizon, L.actionDim], doc: "normalized action chunk" }],
      trace: (m, o, x) => ({ action: m.policy(o, x.frames) }),
    },
  }),
  facts: (cfg, L) => ({
    horizon: cfg.horizon,
    actionDim: L.actionDim,
    defaultSteps: 1,
    objective: null,
    runtime: `keep the last ${cfg.history} frames; per chunk: action = policy(frames stacked oldest first, zeros where missing); unnormalize with normalizers.action.`,
  }),
  runtime: (config, _facts, F, graphs) => new MlpBcOnnxModel(MlpBcConfig.parse(config), F, graphs.policy),
};
