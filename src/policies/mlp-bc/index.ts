import { registerPolicy } from "../registry.ts";
import { MlpBcConfig } from "./config.ts";
import { MlpBcModel } from "./model.ts";
import { MLP_BC_ONNX } from "./export.ts";

registerPolicy({
  name: "mlp-bc", description: "deterministic chunk regression (MSE) with an MLP over the last frames", configSchema: MlpBcConfig,
  create: (c, layout, seed) => new MlpBcModel(c, layout, seed), onnx: MLP_BC_ONNX,
  frameOptions: (c) => ({ prevAction: c.prevAction }), savedDefaults: { prevAction: true },
  smallConfigs: [{ hidden: 48, layers: 2, horizon: 6, history: 3 }, { hidden: 32, layers: 1, horizon: 4, history: 2, prevAction: false }],
});
