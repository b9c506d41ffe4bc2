import { registerPolicy } from "../registry.ts";
import { CausalDiffusionConfig } from "./config.ts";
import { CausalDiffusionModel } from "./model.ts";
import { CAUSAL_DIFFUSION_ONNX } from "./export.ts";

registerPolicy({
  name: "causal-diffusion", description: "entangled causal diffusion baseline: chunk tokens attend to the history in every layer at every step", configSchema: CausalDiffusionConfig,
  create: (c, layout, seed) => new CausalDiffusionModel(c, layout, seed), onnx: CAUSAL_DIFFUSION_ONNX,
  frameOptions: (c) => ({ prevAction: c.prevAction }), savedDefaults: { prevAction: true },
  smallConfigs: [{ dModel: 32, layers: 2, heads: 4, horizon: 6, history: 8 }, { dModel: 16, layers: 1, horizon: 4, history: 3, objective: "ddpm", prevAction: false }],
});
