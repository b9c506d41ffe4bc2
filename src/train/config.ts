import { z } from "zod";
import { policyNames, policyDef } from "../policy/model.ts";

/** Training run configuration: CLI flags and --config files are parsed through this schema. */
export const TrainConfig = z.object({
  policy: z.string().default("scd"),
  policyConfig: z.record(z.string(), z.unknown()).default({}),
  dataset: z.string(),
  obsFeatures: z.array(z.string()).min(1).optional(), // default: keypoints + agent_pos if present, else state
  episodes: z.number().int().positive().optional(), // use only the first N demonstrations (Diffusion Policy: 90)
  steps: z.number().int().positive().default(2000),
  batch: z.number().int().positive().default(64),
  lr: z.number().positive().default(3e-4), // a policy may set its own (PolicyDef.trainDefaults; scd: 1e-3)
  warmup: z.number().int().nonnegative().default(200),
  minLrFrac: z.number().min(0).max(1).default(0.1), // cosine decay floor
  weightDecay: z.number().min(0).default(1e-4),
  clip: z.number().min(0).default(1),
  emaDecay: z.number().min(0).max(1).default(0.9999), // the EMA decay, or its cap with emaPower > 0
  maxPadAfterEnd: z.number().int().min(0).optional(), // chunk steps allowed past an episode's end (DP: 7); default: all
  emaPower: z.number().min(0).default(0.75), // > 0: Diffusion Policy's warm-up, decay = min(emaDecay, 1 − (1 + step)^−emaPower)
  seed: z.number().int().default(0),
  valFraction: z.number().min(0).max(0.5).default(0.05),
  valEvery: z.number().int().nonnegative().default(250),
  ckptEvery: z.number().int().nonnegative().default(250),
  evalEvery: z.number().int().nonnegative().default(0), // periodic simulator evaluation (0 = off)
  evalEnv: z.string().optional(),
  evalEpisodes: z.number().int().positive().default(10),
  evalSeedStart: z.number().int().default(100000),
  out: z.string(),
  maxSeconds: z.number().positive().optional(), // wall-clock budget: stop (and checkpoint) when it runs out
});
export type TrainConfig = z.infer<typeof TrainConfig>;

/**
 * Raw training settings with the named policy's recipe defaults (PolicyDef.trainDefaults) filled in where nothing
 * was given; an unregistered policy name is left for the caller's own error.
 */
export function withPolicyTrainDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  const name = String(raw.policy ?? "scd");
  const defaults = policyNames().includes(name) ? policyDef(name).trainDefaults : undefined;
  return defaults ? { ...defaults, ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) } : raw;
}
