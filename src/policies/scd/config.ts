import { z } from "zod";

/** Separable Causal Diffusion: a causal encoder (once per frame) + a light chunk decoder (every denoising step). */
export const ScdConfig = z
  .object({
    horizon: z.number().int().min(1).max(64).default(16), // H: actions per chunk
    history: z.number().int().min(1).max(128).default(2), // frames the encoder attends over (sliding window; DP: 2)
    window: z.number().int().min(1).max(128).optional().default(8), // training window (frames per encoder pass)
    dModel: z.number().int().min(8).default(128),
    encLayers: z.number().int().min(1).default(5), // capacity goes to the encoder: it runs once per frame
    heads: z.number().int().min(1).default(4),
    mlpRatio: z.number().int().min(1).default(4),
    decDModel: z.number().int().min(8).default(256), // decoder width
    decLayers: z.number().int().min(1).default(3), // the decoder runs K times per frame: keep it light
    decHeads: z.number().int().min(1).default(4),
    decoder: z.enum(["transformer", "mlp"]).default("mlp"), // mlp: decDModel = width, decLayers = FiLM blocks
    objective: z.enum(["flow", "ddpm"]).default("flow"),
    contextNoise: z.number().min(0).default(0.05), // η: c̃ = c + η·ζ at training time
    decoderLrMult: z.number().positive().default(2),
    decoderDraws: z.number().int().min(1).default(1), // noise draws per encoder pass
    positionsPerWindow: z.number().int().min(1).default(8), // window positions with a chunk loss (≤ window)
    defaultSteps: z.number().int().min(1).default(10),
    prevAction: z.boolean().default(false), // the frame carries the previous action (false: observations only)
  })
  .superRefine((c, ctx) => {
    if (c.dModel % c.heads) ctx.addIssue({ code: "custom", path: ["dModel"], message: `dModel ${c.dModel} must be divisible by heads ${c.heads}` });
    if (c.decDModel % c.decHeads) ctx.addIssue({ code: "custom", path: ["decDModel"], message: `decDModel ${c.decDModel} must be divisible by decHeads ${c.decHeads}` });
  });
export type ScdConfig = z.infer<typeof ScdConfig>;
