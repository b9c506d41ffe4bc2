import { registerPolicy } from "../registry.ts";
import { EntangledDiffusionConfig } from "./config.ts";
import { ScdImageConfig } from "../../nn/image-config.ts";
import { EntangledDiffusionModel } from "./model.ts";
import { ENTANGLED_DIFFUSION_ONNX } from "./export.ts";

registerPolicy({
  name: "entangled-diffusion", aliases: ["causal-diffusion"], description: "entangled causal diffusion baseline: chunk tokens attend to the history in every layer at every step", configSchema: EntangledDiffusionConfig,
  create: (c, layout, seed) => new EntangledDiffusionModel(c, layout, seed), onnx: ENTANGLED_DIFFUSION_ONNX,
  frameOptions: (c) => ({ prevAction: c.prevAction, images: true }), savedDefaults: { prevAction: true },
  // a run on camera frames records the image encoder it built (SCD's defaults; they may change, the checkpoint must not)
  configForLayout: (c, layout) => (layout.images?.length && !c.image ? { ...c, image: ScdImageConfig.parse({}) } : c),
  smallConfigs: [{ dModel: 32, layers: 2, heads: 4, horizon: 6, history: 8 }, { dModel: 16, layers: 1, horizon: 4, history: 3, objective: "ddpm", prevAction: false }],
});
