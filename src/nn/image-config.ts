import { z } from "zod";

/**
 * The image path (camera observations): one ImageEncoder (src/nn/image-encoder.ts) per image feature, run once per
 * frame; its `dOut` features join the frame's low-dimensional features before the causal encoder's input projection.
 * Random `crop` × `crop` crops at training, the centre crop at inference (Diffusion Policy: 96 → 84). The encoder
 * defaults are image-encoder.ts's DEFAULT_IMAGE_ENCODER (kept here as values: this file is browser-safe, no tfjs). SCD and the entangled baseline both take it as `image`.
 */
export const ScdImageConfig = z
  .object({
    channels: z.array(z.number().int().min(1)).min(1).default([16, 32, 64, 64]), // per stage (ResNet-18: 64 … 512)
    blocks: z.number().int().min(1).default(2), // BasicBlocks per stage
    groups: z.number().int().min(1).default(8), // GroupNorm groups (divide every stage's channels)
    keypoints: z.number().int().min(1).default(32), // spatial-softmax keypoints
    dOut: z.number().int().min(1).default(64), // features per image per frame
    crop: z.number().int().min(8).default(84), // crop size (pixels); ≤ the image's height and width
  })
  .superRefine((c, ctx) => {
    const bad = c.channels.filter((v) => v % c.groups);
    if (bad.length) ctx.addIssue({ code: "custom", path: ["groups"], message: `groups ${c.groups} must divide every stage's channels (not ${bad.join(", ")})` });
  });
export type ScdImageConfig = z.infer<typeof ScdImageConfig>;
