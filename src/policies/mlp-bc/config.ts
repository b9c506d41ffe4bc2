import { z } from "zod";

/** Deterministic chunk regression (MSE) from the last `history` frames; defaults give ~1.05 M parameters (the SCD default's budget). */
export const MlpBcConfig = z.object({
  horizon: z.number().int().min(1).max(64).default(16),
  history: z.number().int().min(1).max(32).default(2),
  hidden: z.number().int().min(8).default(710),
  layers: z.number().int().min(1).default(3),
  window: z.number().int().min(1).max(128).default(16),
  positionsPerWindow: z.number().int().min(1).default(4),
  prevAction: z.boolean().default(true), // the frame carries the previous action (false: observations only)
});
export type MlpBcConfig = z.infer<typeof MlpBcConfig>;
