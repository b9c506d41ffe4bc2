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
import type { Flags, FlagSpecs } from "../args.ts";
import { schemaFlags, parseJsonObject } from "../schema-flags.ts";
import { PUSHT_DATASET } from "./start.ts";
import { loadDataset } from "../../datasets/load.ts";
import "../../envs/index.ts";

const envOf = (meta: Record<string, unknown>): string | undefined => (typeof meta.env === "string" ? meta.env : undefined);

/** `scd train`'s knobs: one per TrainConfig field, read from the schema (type, bounds, help from `.describe()`). */
const KNOBS = schemaFlags(TrainConfig);

/** The training config fields the user gave (--config file < flags), without defaults. */
export function givenTrainConfig(flags: Flags): Record<string, unknown> {
  let raw: Record<string, unknown> = {};
  if (flags.config) {
    const f = flags.config as string;
    if (!fs.existsSync(f)) throw new ScdError(`--config ${f}: no such file`, "missing-file");
    raw = parseJsonObject(fs.readFileSync(f, "utf8"), `--config ${f}`);
  }
  const given = KNOBS.toConfig(flags);
  if (given.policyConfig) given.policyConfig = { ...((raw.policyConfig as object) ?? {}), ...(given.policyConfig as object) };
  return { ...raw, ...given };
}

/** A config field as the user spells it: its flag if it has one, else the --config file's key. */
export function flagOf(key: string): string {
  return KNOBS.flagOf(key) ?? `config key "${key}"`;
}

/** Defaults < --config file < flags; validated by the TrainConfig schema. */
export function trainConfigFromFlags(flags: Flags): TrainConfig {
  const raw = givenTrainConfig(flags);
  raw.dataset ??= PUSHT_DATASET;
  raw.out ??= path.join("runs", `${raw.policy ?? "scd"}-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
  return parseTrainConfig(raw, "training config");
}

export const TRAIN_FLAGS = {
  ...KNOBS.flags,
  config: { type: "string", desc: "JSON file with training config keys (flags override it)" },
  resume: { type: "boolean", desc: "continue the run in --out exactly where its checkpoint stopped" },
} satisfies FlagSpecs;

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
