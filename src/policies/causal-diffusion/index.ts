import { registerPolicy } from "../registry.ts";
import { CausalDiffusionConfig } from "./config.ts";
import { CausalDiffusionModel } from "./model.ts";

registerPolicy({ name: "causal-diffusion", description: "entangled causal diffusion baseline: chunk tokens attend to the history in every layer at every step", configSchema: CausalDiffusionConfig, create: (c, layout, seed) => new CausalDiffusionModel(c, layout, seed), frameOptions: (c) => ({ prevAction: c.prevAction }), savedDefaults: { prevAction: true } });
