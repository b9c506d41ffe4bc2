import { registerPolicy } from "../registry.ts";
import { MlpBcConfig } from "./config.ts";
import { MlpBcModel } from "./model.ts";

registerPolicy({ name: "mlp-bc", description: "deterministic chunk regression (MSE) with an MLP over the last frames", configSchema: MlpBcConfig, create: (c, layout, seed) => new MlpBcModel(c, layout, seed), frameOptions: (c) => ({ prevAction: c.prevAction }), savedDefaults: { prevAction: true } });
