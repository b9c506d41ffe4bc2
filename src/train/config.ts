import { z } from "zod";
import { ScdError } from "../errors.ts";
import { nearest } from "../util/nearest.ts";
import { policyNames, policyDef, parsePolicyConfig } from "../policies/registry.ts";

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
        throw new ScdError(`${where}: unknown key "${prefix}${k}"${near ? ` (did you mean "${prefix}${near}"?)` : ""}; known: ${known.join(", ")}`);
      }
  };
  refuseUnknown(Object.keys(raw), Object.keys(TrainConfig.shape), keyPrefix);
  const name = String(raw.policy ?? "scd");
  const registered = policyNames().includes(name);
  const schema = registered ? (policyDef(name).configSchema as { shape?: Record<string, unknown> }) : null;
  if (schema?.shape && raw.policyConfig && typeof raw.policyConfig === "object" && !Array.isArray(raw.policyConfig))
    refuseUnknown(Object.keys(raw.policyConfig), Object.keys(schema.shape), `${keyPrefix}policyConfig.`);
  const r = TrainConfig.safeParse(withPolicyTrainDefaults(raw));
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ScdError(`${where}: ${keyPrefix}${i.path.join(".") || "(root)"}: ${i.message}${i.path.length ? ` (got ${JSON.stringify(pick(raw, i.path))})` : ""}`);
  }
  if (registered) parsePolicyConfig(policyDef(name), r.data.policyConfig, `${where}: ${keyPrefix}policyConfig`);
  return r.data;
}

function pick(o: unknown, p: PropertyKey[]): unknown {
  return p.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), o);
}
