import { z } from "zod";
import { ScdError } from "../errors.ts";
import { nearest } from "../util/nearest.ts";
import { isPolicyName, policyDef, parsePolicyConfig } from "../policies/registry.ts";

/** Training run configuration: CLI flags and --config files are parsed through this schema. */
export const TrainConfig = z.object({
  policy: z.string().default("scd").describe("policy name: scd | entangled-diffusion | mlp-bc | dp-unet"),
  policyConfig: z.record(z.string(), z.unknown()).default({}).describe("policy config overrides (JSON object), e.g. '{\"history\":2}'"),
  dataset: z.string().describe("demonstrations (.scdd, Zarr or a LeRobot v3 directory); default: the shipped Push-T demonstrations"),
  obsFeatures: z.array(z.string()).min(1).optional().describe("observation features (comma-separated); default: keypoints + agent_pos if present, else state"),
  episodes: z.number().int().positive().optional().describe("train on the first N demonstrations only (Diffusion Policy: 90)"),
  steps: z.number().int().positive().default(2000).describe("training steps"),
  batch: z.number().int().positive().default(64).describe("windows per batch"),
  lr: z.number().positive().default(3e-4).describe("peak learning rate (default 3e-4, or the policy's own: scd 1e-3)"),
  warmup: z.number().int().nonnegative().default(200).describe("linear warm-up steps"),
  minLrFrac: z.number().min(0).max(1).default(0.1).describe("cosine schedule floor as a fraction of the peak lr"),
  weightDecay: z.number().min(0).default(1e-4).describe("AdamW decoupled weight decay"),
  beta1: z.number().min(0).max(1).default(0.9).describe("AdamW β1 (first-moment decay)"),
  beta2: z.number().min(0).max(1).default(0.95).describe("AdamW β2 (second-moment decay; Diffusion Policy 0.999, nanoGPT 0.95)"),
  clip: z.number().min(0).default(1).describe("gradient clipping by global norm (0 = off)"),
  emaDecay: z.number().min(0).max(1).default(0.9999).describe("EMA decay (its cap with emaPower > 0)"),
  maxPadAfterEnd: z.number().int().min(0).optional().describe("chunk steps a window may run past its episode's end (Diffusion Policy: 7; default: all)"),
  emaPower: z.number().min(0).default(0.75).describe("EMA warm-up power, decay = min(emaDecay, 1 − (1 + step)^−power) (Diffusion Policy: 0.75); 0 = fixed decay"),
  seed: z.number().int().min(0).default(0).describe("seed (weights, batches, noise)"),
  valFraction: z.number().min(0).max(0.5).default(0.05).describe("share of episodes held out for validation"),
  valEvery: z.number().int().nonnegative().default(250).describe("validation every N steps"),
  ckptEvery: z.number().int().nonnegative().default(250).describe("checkpoint every N steps"),
  keepEvery: z.number().int().nonnegative().default(0).describe("keep the checkpoint of every N-th step in <out>/checkpoints/ (0 = only the newest 3), e.g. to score each later"),
  evalEvery: z.number().int().nonnegative().default(0).describe("evaluate in the simulator every N steps (0 = off)"),
  evalEnv: z.string().optional().describe("env for periodic evaluation (default: the env the dataset was recorded in)"),
  evalEpisodes: z.number().int().positive().default(10).describe("episodes per periodic evaluation"),
  evalSeedStart: z.number().int().min(0).default(100000).describe("first reset seed of periodic evaluations"),
  out: z.string().describe("run directory (checkpoint/, metrics.jsonl, loss.png)"),
  maxSeconds: z.number().positive().optional().describe("wall-clock budget (s): stop and checkpoint when it runs out"),
  schedule: z.enum(["steps", "time"]).default("steps").describe("what the cosine decay runs over: steps (to --steps) or time (to --max-seconds, summed over resumes; --steps is then a cap)"),
}).refine((c) => c.schedule !== "time" || c.maxSeconds !== undefined, { message: "--schedule time decays the learning rate over --max-seconds: give --max-seconds", path: ["maxSeconds"] });
export type TrainConfig = z.infer<typeof TrainConfig>;

/**
 * Raw training settings with the named policy's recipe defaults (PolicyDef.trainDefaults) filled in where nothing
 * was given; an unregistered policy name is left for the caller's own error.
 */
export function withPolicyTrainDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  const name = String(raw.policy ?? "scd");
  const defaults = isPolicyName(name) ? policyDef(name).trainDefaults : undefined;
  return defaults ? { ...defaults, ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) } : raw;
}

/**
 * The one validation of a training config, for `scd train` (flags + --config) and for every run of a sweep: keys
 * neither TrainConfig nor the policy's schema knows are refused with a suggestion (a misspelt key would silently
 * train something else), then the values, with the policy's recipe defaults filled in, then the policy config
 * (registered policies). `where` starts every message ("training config", "sweep.json: run 3 (lr=0.001)"), and
 * `keyPrefix` goes before every key named ("train." in a sweep).
 * @throws ScdError naming `where`, the key or field, and the value's problem.
 */
export function parseTrainConfig(raw: Record<string, unknown>, where: string, keyPrefix = ""): TrainConfig {
  const refuseUnknown = (keys: string[], known: string[], prefix: string) => {
    for (const k of keys)
      if (!known.includes(k)) {
        const near = nearest(k, known);
        throw new ScdError(`${where}: unknown key "${prefix}${k}"${near ? ` (did you mean "${prefix}${near}"?)` : ""}; known: ${known.join(", ")}`, "unknown-name");
      }
  };
  refuseUnknown(Object.keys(raw), Object.keys(TrainConfig.shape), keyPrefix);
  const name = String(raw.policy ?? "scd");
  const registered = isPolicyName(name);
  const schema = registered ? (policyDef(name).configSchema as { shape?: Record<string, unknown> }) : null;
  if (schema?.shape && raw.policyConfig && typeof raw.policyConfig === "object" && !Array.isArray(raw.policyConfig))
    refuseUnknown(Object.keys(raw.policyConfig), Object.keys(schema.shape), `${keyPrefix}policyConfig.`);
  const r = TrainConfig.safeParse(withPolicyTrainDefaults(raw));
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ScdError(`${where}: ${keyPrefix}${i.path.join(".") || "(root)"}: ${i.message}${i.path.length && pick(raw, i.path) !== undefined ? ` (got ${JSON.stringify(pick(raw, i.path))})` : ""}`);
  }
  if (registered) parsePolicyConfig(policyDef(name), r.data.policyConfig, `${where}: ${keyPrefix}policyConfig`);
  return r.data;
}

function pick(o: unknown, p: PropertyKey[]): unknown {
  return p.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), o);
}
