import { registerPolicy } from "../registry.ts";
import { DpUnetConfig } from "./config.ts";
import { DpUnetModel } from "./model.ts";

registerPolicy({ name: "dp-unet", description: "Diffusion Policy's 1-D temporal U-Net (FiLM on the observation history; DDPM training, DDIM sampling)", configSchema: DpUnetConfig, create: (c, layout, seed) => new DpUnetModel(c, layout, seed), frameOptions: () => ({ prevAction: false }) });
