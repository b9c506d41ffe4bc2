import { z } from "zod";

/**
 * Diffusion Policy's 1-D temporal U-Net (Chi et al. 2023, ConditionalUnet1D) with the observation history as global
 * FiLM conditioning. Defaults: Push-T's recipe (observation horizon 2, chunk 16, kernel 5, GroupNorm 8), sized like
 * the PyTorch reference of issue 9 (~5.4 M parameters with Push-T keypoint observations).
 */
export const DpUnetConfig = z
  .object({
    horizon: z.number().int().min(1).max(64).default(16), // H: actions per chunk (DP: horizon)
    nObsSteps: z.number().int().min(1).max(16).default(2), // observation frames conditioned on (DP: n_obs_steps)
    downDims: z.array(z.number().int().min(1)).min(1).max(5).default([64, 128, 256]), // channels per U-Net level
    kernelSize: z.number().int().min(1).max(15).default(5),
    nGroups: z.number().int().min(1).default(8), // GroupNorm groups
    stepEmbedDim: z.number().int().min(4).default(256), // diffusion-step embedding (DP: diffusion_step_embed_dim)
    defaultSteps: z.number().int().min(1).max(100).default(10), // DDIM steps at run time
  })
  .superRefine((c, ctx) => {
    const bad = c.downDims.find((d) => d % c.nGroups);
    if (bad !== undefined) ctx.addIssue({ code: "custom", path: ["downDims"], message: `every channel count must be divisible by nGroups ${c.nGroups}, got ${bad}` });
    const f = 2 ** (c.downDims.length - 1); // each level but the last halves the length
    if (c.horizon % f) ctx.addIssue({ code: "custom", path: ["horizon"], message: `horizon ${c.horizon} must be divisible by ${f} (${c.downDims.length - 1} stride-2 downsamplings)` });
    if (c.kernelSize % 2 === 0) ctx.addIssue({ code: "custom", path: ["kernelSize"], message: `kernelSize ${c.kernelSize} must be odd ("same" padding)` });
    if (c.stepEmbedDim % 2) ctx.addIssue({ code: "custom", path: ["stepEmbedDim"], message: `stepEmbedDim ${c.stepEmbedDim} must be even (sin and cos halves)` });
  });
export type DpUnetConfig = z.infer<typeof DpUnetConfig>;
