/**
 * SCD's registration without its TensorFlow.js model (browser-safe): config, defaults, frame content and the ONNX
 * export. index.ts adds the model; a bundle that only runs SCD's ONNX export registers this alone (onnx.ts).
 */
import type { PolicySpec } from "../registry.ts";
import { ScdConfig, ScdImageConfig } from "./config.ts";
import { SCD_ONNX } from "./export.ts";

export const SCD: PolicySpec<typeof ScdConfig> = {
  name: "scd",
  description: "Separable Causal Diffusion: causal encoder (KV cache) + light chunk decoder",
  configSchema: ScdConfig,
  onnx: SCD_ONNX,
  frameOptions: (c) => ({ prevAction: c.prevAction, images: true, ...(c.auxTarget ? { aux: [c.auxTarget.feature] } : {}) }),
  // a run on camera frames records the image encoder it built (its defaults may change; the checkpoint must not)
  configForLayout: (c, layout) => (layout.images?.length && !c.image ? { ...c, image: ScdImageConfig.parse({}) } : c),
  trainingOnlyConfig: ["auxTarget"],
  savedDefaults: { decoder: "transformer", prevAction: true },
  // measured: recipe search (6-min budgets: 0.483 vs 0.399 at 3e-4) and the shipped checkpoint's run (docs/benchmarks.md)
  trainDefaults: { lr: 1e-3 },
  smallConfigs: [
    { dModel: 32, encLayers: 2, heads: 4, decDModel: 16, decLayers: 2, decHeads: 2, horizon: 6, history: 8 },
    { dModel: 16, encLayers: 1, decDModel: 16, horizon: 4, history: 3, objective: "ddpm" },
    { dModel: 32, encLayers: 2, decoder: "mlp", decDModel: 24, decLayers: 2, horizon: 6, history: 8, prevAction: false },
  ],
};
