/**
 * MLP-BC as ONNX: one graph, `policy`: the last `history` frames, flattened [B, history·F] → chunk [B, H, A]
 * (ReLU hidden layers, clipped to [−1, 1]); the frame history is kept in TypeScript (model.ts's stackFrames).
 */
import { GraphBuilder } from "../../deploy/onnx-graph.ts";
import { linear } from "../../deploy/onnx-nn.ts";
import { registerOnnxExport, type ArrayModel, type GraphRunner } from "../../deploy/runtime.ts";
import { exportConfig } from "../../deploy/kv.ts";
import { MlpBcConfig } from "./config.ts";
import { stackFrames } from "./model.ts";

const KNOWN = ["horizon", "history", "hidden", "layers", "window", "positionsPerWindow", "prevAction"];

class MlpBcOnnxModel implements ArrayModel {
  private recent: Float32Array[] = [];
  private B = 1;
  constructor(readonly cfg: MlpBcConfig, readonly F: number, readonly A: number, readonly g: GraphRunner) {}
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

registerOnnxExport({
  policy: "mlp-bc",
  build(meta, w) {
    const cfg = exportConfig(MlpBcConfig, meta.config, KNOWN, w);
    const F = meta.layout.frameDim, H = cfg.horizon, A = meta.layout.actionDim;
    const g = new GraphBuilder("policy");
    const sizes = [cfg.history * F, ...Array(cfg.layers).fill(cfg.hidden), H * A];
    let h = g.input({ name: "frames", dtype: "float32", shape: ["batch", cfg.history * F], doc: `the last ${cfg.history} normalized frames, oldest first, zeros before the episode start` });
    for (let i = 0; i < sizes.length - 1; i++) h = linear({ g, w }, h, `fc${i}`, sizes[i], sizes[i + 1], i < sizes.length - 2 ? "relu" : "linear");
    const chunk = g.op1("Clip", [g.op1("Reshape", [h, g.const("int64", [-1, H, A])]), g.scalar(-1), g.scalar(1)]);
    g.output(chunk, { name: "action", dtype: "float32", shape: ["batch", H, A], doc: "normalized action chunk" });
    return {
      graphs: { policy: { builder: g, doc: "once per chunk: the MLP over the recent frames" } },
      facts: {
        horizon: H,
        actionDim: A,
        defaultSteps: 1,
        objective: null,
        runtime: `keep the last ${cfg.history} frames; per chunk: action = policy(frames stacked oldest first, zeros where missing); unnormalize with normalizers.action.`,
      },
    };
  },
  runtime: (config, facts, F, graphs) => new MlpBcOnnxModel(MlpBcConfig.parse(config), F, facts.actionDim, graphs.policy),
});
