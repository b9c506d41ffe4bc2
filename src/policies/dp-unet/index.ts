import { registerPolicy } from "../registry.ts";
import { DpUnetConfig } from "./config.ts";
import { DpUnetModel } from "./model.ts";
import { DP_UNET_ONNX } from "./export.ts";

registerPolicy({
  name: "dp-unet", description: "Diffusion Policy's 1-D temporal U-Net (FiLM on the observation history; DDPM training, DDIM sampling)", configSchema: DpUnetConfig,
  create: (c, layout, seed) => new DpUnetModel(c, layout, seed), onnx: DP_UNET_ONNX,
  frameOptions: () => ({ prevAction: false }),
  smallConfigs: [{ horizon: 8, nObsSteps: 3, downDims: [8, 16, 16], nGroups: 4, stepEmbedDim: 8 }, { horizon: 4, downDims: [8, 16], nGroups: 4, stepEmbedDim: 8, kernelSize: 3 }],
});
