import { z } from "zod";

// the image encoder's config, shared with the entangled baseline (src/nn/image-config.ts)
import { ScdImageConfig } from "../../nn/image-config.ts";
export { ScdImageConfig };

/** Separable Causal Diffusion: a causal encoder (once per frame) + a light chunk decoder (every denoising step). */
export const ScdConfig = z
  .object({
    horizon: z.number().int().min(1).max(64).default(16), // H: actions per chunk
    history: z.number().int().min(1).max(128).default(2), // frames the encoder attends over (sliding window; DP: 2)
    // training window (frames per encoder pass); default 8, or `history` with images (each frame is a CNN pass)
    window: z.number().int().min(1).max(128).optional(),
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
    // window positions with a chunk loss (≤ window); default 8, or the window with images
    positionsPerWindow: z.number().int().min(1).optional(),
    defaultSteps: z.number().int().min(1).default(10),
    prevAction: z.boolean().default(false), // the frame carries the previous action (false: observations only)
    // the image encoder for image observation features (uint8 [H, W, 3]); absent: its defaults when the dataset's
    // observation features include an image (recorded in the checkpoint), unused otherwise
    image: ScdImageConfig.optional(),
    // a training-only auxiliary loss with images: an MLP head regresses this dataset feature (e.g. the object's
    // keypoints) from each frame's image features, weight × MSE in normalized units beside the chunk loss. The
    // policy still observes only its observation features; the head is not exported.
    auxTarget: z.strictObject({ feature: z.string().min(1), weight: z.number().positive().default(1), hidden: z.number().int().min(1).default(128) }).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.dModel % c.heads) ctx.addIssue({ code: "custom", path: ["dModel"], message: `dModel ${c.dModel} must be divisible by heads ${c.heads}` });
    if (c.decDModel % c.decHeads) ctx.addIssue({ code: "custom", path: ["decDModel"], message: `decDModel ${c.decDModel} must be divisible by decHeads ${c.decHeads}` });
  });
export type ScdConfig = z.infer<typeof ScdConfig>;

/**
 * The training window and positions per window of a config: as given, else 8 and 8 for low-dimensional frames, and
 * `history` and `history` with images. Measured (2-core machine, another training run on the other core): a batch
 * of 64 windows of 2 frames = 128 CNN passes of 84 × 84 with the default encoder, 4.3–5.2 s forward + backward,
 * about 80 % of the step (the transformer, decoder and AdamW take the rest); a window of 8 would be 4× that.
 */
export function scdWindow(c: ScdConfig, images: boolean): { window: number; positions: number } {
  const window = c.window ?? (images ? c.history : 8);
  return { window, positions: c.positionsPerWindow ?? (images ? window : 8) };
}
