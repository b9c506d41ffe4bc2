import { z } from "zod";
import { ScdImageConfig } from "../../nn/image-config.ts";

/**
 * The ENTANGLED causal diffusion baseline (Causal DiT / Diffusion Forcing style): one causal transformer in which
 * the noisy chunk tokens attend to the frame history in every layer at every denoising step. Defaults give about
 * the SCD default's parameter count (~1.05 M). With image features, SCD's image path (config `image`): the frame's
 * token carries the CNN's features, so the CNN runs once per frame and the frame's keys/values are cached as before.
 */
export const EntangledDiffusionConfig = z
  .object({
    horizon: z.number().int().min(1).max(64).default(16),
    history: z.number().int().min(1).max(128).default(16),
    window: z.number().int().min(1).max(128).optional(),
    dModel: z.number().int().min(8).default(120),
    layers: z.number().int().min(1).default(6),
    heads: z.number().int().min(1).default(4),
    mlpRatio: z.number().int().min(1).default(4),
    objective: z.enum(["flow", "ddpm"]).default("flow"),
    draws: z.number().int().min(1).default(2), // noise draws per window position, as extra token groups
    positionsPerWindow: z.number().int().min(1).default(4),
    defaultSteps: z.number().int().min(1).default(10),
    prevAction: z.boolean().default(true), // the frame carries the previous action (false: observations only)
    // the image encoder for image observation features, SCD's (ScdImageConfig): one feature vector per frame, appended
    // to the frame before the trunk's input projection; absent: its defaults when the layout has images (recorded)
    image: ScdImageConfig.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.dModel % c.heads) ctx.addIssue({ code: "custom", path: ["dModel"], message: `dModel ${c.dModel} must be divisible by heads ${c.heads}` });
  });
export type EntangledDiffusionConfig = z.infer<typeof EntangledDiffusionConfig>;
