import * as fs from "node:fs";
import * as path from "node:path";
import { ScdError } from "../../errors.ts";
import { TrainConfig, parseTrainConfig } from "../../train/config.ts";
import { train } from "../../train/train.ts";
import { initBackend } from "../../backend/index.ts";
import { makeEnv } from "../../envs/registry.ts";
import { evaluate } from "../../eval/evaluate.ts";
import { readCheckpointMeta } from "../../checkpoints/checkpoint.ts";
import { findResumeCheckpoint, resumeConfig } from "../../checkpoints/run-dir.ts";
import { type Command, BACKEND_FLAG, out } from "../command.ts";
import type { Flags } from "../args.ts";
import { PUSHT_DATASET } from "./start.ts";
import { loadDataset } from "../../datasets/load.ts";
import "../../envs/index.ts";

const envOf = (meta: Record<string, unknown>): string | undefined => (typeof meta.env === "string" ? meta.env : undefined);

function parseJsonFlag(v: string, flag: string): Record<string, unknown> {
  try {
    const o = JSON.parse(v);
    if (!o || typeof o !== "object" || Array.isArray(o)) throw new Error("not an object");
    return o;
  } catch (e) {
    throw new ScdError(`${flag} must be a JSON object, got ${JSON.stringify(v)} (${(e as Error).message})`);
  }
}

/** The training config fields the user gave (--config file < flags), without defaults. */
export function givenTrainConfig(flags: Flags): Record<string, unknown> {
  let raw: Record<string, unknown> = {};
  if (flags.config) {
    const f = flags.config as string;
    if (!fs.existsSync(f)) throw new ScdError(`--config ${f}: no such file`);
    raw = parseJsonFlag(fs.readFileSync(f, "utf8"), `--config ${f}`);
  }
  const map: [string, string][] = [["policy", "policy"], ["dataset", "dataset"], ["steps", "steps"], ["batch", "batch"], ["lr", "lr"], ["seed", "seed"], ["out", "out"], ["episodes", "episodes"], ["eval-every", "evalEvery"], ["eval-env", "evalEnv"], ["eval-episodes", "evalEpisodes"], ["val-every", "valEvery"], ["ckpt-every", "ckptEvery"], ["warmup", "warmup"], ["max-seconds", "maxSeconds"], ["ema-decay", "emaDecay"], ["ema-power", "emaPower"], ["weight-decay", "weightDecay"], ["min-lr-frac", "minLrFrac"], ["max-pad-after-end", "maxPadAfterEnd"]];
  for (const [flag, key] of map) if (flags[flag] !== undefined) raw[key] = flags[flag];
  if (flags["policy-config"]) raw.policyConfig = { ...((raw.policyConfig as object) ?? {}), ...parseJsonFlag(flags["policy-config"] as string, "--policy-config") };
  if (flags["obs-features"]) raw.obsFeatures = (flags["obs-features"] as string).split(",");
  return raw;
}

/** A config field as the user spells it: its flag if it has one, else the --config file's key. */
export function flagOf(key: string): string {
  const flag = key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
  return flag in TRAIN_FLAGS ? `--${flag}` : `config key "${key}"`;
}

/** Defaults < --config file < flags; validated by the TrainConfig schema. */
export function trainConfigFromFlags(flags: Flags): TrainConfig {
  const raw = givenTrainConfig(flags);
  raw.dataset ??= PUSHT_DATASET;
  raw.out ??= path.join("runs", `${raw.policy ?? "scd"}-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
  return parseTrainConfig(raw, "training config");
}

/** The schema's defaults, for the help text. */
const D = TrainConfig.parse({ dataset: "-", out: "-" });

export const TRAIN_FLAGS = {
  policy: { type: "string", desc: "policy name: scd | causal-diffusion | mlp-bc | dp-unet (default scd)" },
  dataset: { type: "string", desc: "demonstrations (.scdd, Zarr or a LeRobot v3 directory); default: the shipped Push-T demonstrations" },
  config: { type: "string", desc: "JSON file with training config (flags override it)" },
  "policy-config": { type: "string", desc: "JSON object of policy config overrides, e.g. '{\"history\":2}'" },
  "obs-features": { type: "string", desc: "comma-separated observation features" },
  steps: { type: "int", min: 1, desc: `training steps (default ${D.steps})` },
  batch: { type: "int", min: 1, desc: `windows per batch (default ${D.batch})` },
  lr: { type: "number", min: 1e-12, desc: `peak learning rate (default ${D.lr}, or the policy's own: scd 1e-3)` },
  warmup: { type: "int", min: 0, desc: `warm-up steps (default ${D.warmup})` },
  "max-seconds": { type: "number", min: 1e-3, desc: "wall-clock budget: stop and checkpoint when it runs out" },
  "ema-decay": { type: "number", min: 0, max: 1, desc: `EMA decay (its cap with --ema-power; default ${D.emaDecay})` },
  "ema-power": { type: "number", min: 0, desc: "EMA warm-up power (Diffusion Policy: 0.75); 0 = fixed decay" },
  "weight-decay": { type: "number", min: 0, desc: `AdamW decoupled weight decay (default ${D.weightDecay})` },
  "min-lr-frac": { type: "number", min: 0, max: 1, desc: `cosine schedule floor as a fraction of the peak lr (default ${D.minLrFrac})` },
  "max-pad-after-end": { type: "int", min: 0, desc: "chunk steps a window may run past its episode's end (Diffusion Policy: 7; default: all)" },
  seed: { type: "int", min: 0, desc: `seed (weights, batches, noise; default ${D.seed})` },
  episodes: { type: "int", min: 1, desc: "train on the first N demonstrations only" },
  out: { type: "string", desc: "run directory (checkpoint/, metrics.jsonl, loss.png)" },
  resume: { type: "boolean", desc: "continue the run in --out exactly where its checkpoint stopped" },
  "val-every": { type: "int", min: 0, desc: `validation every N steps (default ${D.valEvery})` },
  "ckpt-every": { type: "int", min: 0, desc: `checkpoint every N steps (default ${D.ckptEvery})` },
  "eval-every": { type: "int", min: 0, desc: "evaluate in the simulator every N steps (0 = off)" },
  "eval-env": { type: "string", desc: "env for periodic evaluation" },
  "eval-episodes": { type: "int", min: 1, desc: `episodes per periodic evaluation (default ${D.evalEpisodes})` },
} as const;

export const trainCommand: Command = {
  name: "train",
  summary: "train a policy on demonstrations (progress, validation, checkpoints, --resume)",
  usage: "--policy <name> [--dataset path] [--config file.json] [--steps N --batch N --lr X --seed S --out dir --resume]",
  flags: { ...TRAIN_FLAGS, ...BACKEND_FLAG },
  async run(_pos, flags) {
    const rep = await initBackend((flags.backend as string) ?? process.env.SCD_BACKEND ?? null);
    if (flags.resume && !flags.out) throw new ScdError(`--resume needs --out <run directory>`);
    let cfg = trainConfigFromFlags(flags);
    if (flags.resume) {
      // the run's own config with every given flag on top; flags that define the run are refused if they differ
      const from = findResumeCheckpoint(cfg.out);
      const meta = readCheckpointMeta(from);
      const saved = meta.info.trainConfig as Record<string, unknown> | undefined;
      if (saved) {
        const r = TrainConfig.safeParse({ ...resumeConfig(saved, givenTrainConfig(flags), meta.step, from, flagOf), out: cfg.out });
        if (!r.success) throw new ScdError(`invalid training config: ${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`);
        cfg = r.data;
      }
    }
    // the env to score on: --eval-env, else the env the dataset says it was recorded in (scd collect and the shipped
    // demonstrations write it in their header)
    const evalEnv = cfg.evalEnv ?? (cfg.evalEvery ? envOf((await loadDataset(cfg.dataset)).meta) : undefined);
    const evalHook = cfg.evalEvery && evalEnv
      ? async (p: import("../../policies/learned.ts").LearnedPolicy) => {
          const r = await evaluate({ makeEnv: () => makeEnv(evalEnv), makePolicy: async () => p, episodes: cfg.evalEpisodes, seedStart: cfg.evalSeedStart, parallel: 1, loop: { strategy: { kind: "receding", execute: Math.min(8, p.horizon) }, latencyMs: 0 } });
          return { evalAvgMaxReward: r.aggregated.avg_max_reward, evalPcSuccess: r.aggregated.pc_success };
        }
      : undefined;
    process.stderr.write(`training ${cfg.policy} on ${cfg.dataset} (${rep.backend}) → ${cfg.out}\n`);
    const r = await train(cfg, { resume: !!flags.resume, evalHook });
    out(`trained ${cfg.policy} (${r.numParams.toLocaleString("en")} parameters) to step ${r.step} in ${r.seconds.toFixed(0)} s: loss ${r.trainLoss.toFixed(4)}${r.valLoss !== null ? `, val ${r.valLoss.toFixed(4)}` : ""}\n  checkpoint: ${r.dir}\n  metrics: ${path.join(cfg.out, "metrics.jsonl")}\n  loss curve: ${path.join(cfg.out, "loss.png")}`);
  },
};
