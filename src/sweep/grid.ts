/**
 * A sweep file: base training settings (`train`, the TrainConfig fields of `scd train`), base evaluation settings
 * (`eval`), and a `grid` of dotted paths → value lists. Each run is the base with one combination of overrides;
 * runs are numbered in expansion order (declaration order, the last axis varying fastest; a list of grids is
 * expanded grid by grid, as scikit-learn's ParameterGrid does), so index I means the same run on every machine.
 *
 * ```json
 * { "out": "runs/recipe",
 *   "train": { "policy": "scd", "steps": 100000, "maxSeconds": 3600, "evalEvery": 1000 },
 *   "eval": { "env": "pusht-v1", "episodes": 50, "seedStart": 100000 },
 *   "grid": { "train.lr": [1e-4, 3e-4], "train.policyConfig.history": [2, 16] } }
 * ```
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { ScdError } from "../errors.ts";
import { type TrainConfig, parseTrainConfig } from "../train/config.ts";
import { envSpec } from "../envs/registry.ts";

/** Evaluation of a run's final checkpoint (the flags of `scd eval`, camelCase). */
export const SweepEval = z.strictObject({
  env: z.string(),
  episodes: z.number().int().positive().default(50),
  seedStart: z.number().int().default(100000),
  strategy: z.enum(["receding", "ensemble", "async"]).default("receding"),
  execute: z.number().int().positive().optional(), // receding: actions per chunk (default min(8, H))
  ensembleM: z.number().nonnegative().default(0.01),
  asyncThreshold: z.number().int().nonnegative().optional(),
  merge: z.enum(["latest", "average"]).default("latest"),
  latency: z.union([z.literal("measured"), z.number().nonnegative()]).default(0), // virtual-clock ms; 0 = pure policy quality
  steps: z.number().int().positive().optional(), // denoising steps
  parallel: z.number().int().positive().default(10),
  obsMode: z.string().optional(),
});
export type SweepEval = z.infer<typeof SweepEval>;

const AXIS_KEY = /^(train|eval)\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const Axes = z.record(z.string(), z.array(z.unknown()).min(1)).superRefine((o, ctx) => {
  for (const k of Object.keys(o)) if (!AXIS_KEY.test(k)) ctx.addIssue({ code: "custom", path: [k], message: `keys are dotted paths under "train." or "eval." (e.g. "train.lr"), got "${k}"` });
});
const SweepFile = z.strictObject({
  name: z.string().optional(),
  out: z.string().optional(), // runs directory, relative to the working directory (default runs/sweep-<file name>)
  train: z.record(z.string(), z.unknown()).default({}),
  eval: z.record(z.string(), z.unknown()),
  grid: z.unknown().optional(), // an object of axes or a non-empty list of them; parsed below for precise error paths
});

export interface SweepRun {
  index: number;
  /** this run's grid values, by dotted path */
  overrides: Record<string, unknown>;
  /** the run's directory: checkpoint/, metrics.jsonl, run.json, train.json, eval.json */
  dir: string;
  train: TrainConfig;
  eval: SweepEval;
}

export interface Sweep {
  file: string;
  name: string;
  out: string;
  /** the dotted paths the grid varies, in declaration order */
  axes: string[];
  runs: SweepRun[];
}

function product(axes: Record<string, unknown[]>): Record<string, unknown>[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const [k, vs] of Object.entries(axes)) combos = combos.flatMap((c) => vs.map((v) => ({ ...c, [k]: v })));
  return combos;
}

function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === undefined) o[k] = {};
    if (typeof o[k] !== "object" || o[k] === null || Array.isArray(o[k])) throw new ScdError(`grid path ${dotted}: "${k}" is not an object`);
    o = o[k] as Record<string, unknown>;
  }
  o[keys.at(-1)!] = value;
}

export const runDirName = (i: number): string => `run-${String(i).padStart(3, "0")}`;

/** A run's grid values as `lr=0.0003 history=2` (the last path segment names each). */
export function describeOverrides(o: Record<string, unknown>): string {
  return Object.entries(o).map(([k, v]) => `${k.replace(/^(train|eval)\.(policyConfig\.)?/, "")}=${JSON.stringify(v)}`).join(" ") || "(base)";
}

/**
 * Read and expand a sweep file; every run's settings are validated here, so a bad grid fails before any job
 * starts. `defaults.train` fills fields the file leaves out (e.g. the CLI's default dataset).
 * Throws ScdError naming the file, the run and the field.
 */
export function loadSweep(file: string, defaults: { train?: Record<string, unknown> } = {}): Sweep {
  if (!fs.existsSync(file)) throw new ScdError(`${file}: no such sweep file`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ScdError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const p = SweepFile.safeParse(raw);
  if (!p.success) {
    const i = p.error.issues[0];
    throw new ScdError(`${file}: field ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  const f = p.data;
  const gridIn = f.grid ?? {};
  const g = (Array.isArray(gridIn) ? z.array(Axes).min(1) : Axes).safeParse(gridIn);
  if (!g.success) {
    const i = g.error.issues[0];
    throw new ScdError(`${file}: field ${["grid", ...i.path].join(".")}: ${i.message}`);
  }
  if ("out" in f.train) throw new ScdError(`${file}: field train.out: the sweep sets each run's directory (use the top-level "out")`);
  const out = f.out ?? path.join("runs", `sweep-${path.basename(file, ".json")}`);
  const grids = Array.isArray(g.data) ? g.data : [g.data];
  const axes = [...new Set(grids.flatMap((g) => Object.keys(g)))];
  if (axes.includes("train.out")) throw new ScdError(`${file}: field grid.train.out: the sweep sets each run's directory (use the top-level "out")`);
  const runs = grids.flatMap(product).map((overrides, index): SweepRun => {
    const base = structuredClone({ train: { ...defaults.train, ...f.train }, eval: f.eval }) as Record<string, unknown>;
    for (const [k, v] of Object.entries(overrides)) setPath(base, k, v);
    const where = `${file}: run ${index} (${describeOverrides(overrides)})`;
    const dir = path.join(out, runDirName(index));
    // the same validation as `scd train` (unknown keys included), so a typo in a grid key fails before any job starts
    const train = parseTrainConfig({ ...(base.train as Record<string, unknown>), out: dir }, where, "train.");
    const e = SweepEval.safeParse(base.eval);
    if (!e.success) throw new ScdError(`${where}: eval.${e.error.issues[0].path.join(".")}: ${e.error.issues[0].message}`);
    envSpec(e.data.env, `${where}: eval.env`);
    if (train.evalEnv) envSpec(train.evalEnv, `${where}: train.evalEnv`);
    if (!fs.existsSync(train.dataset)) throw new ScdError(`${where}: train.dataset: no such file or folder "${train.dataset}"`, "missing-file");
    return { index, overrides, dir, train, eval: e.data };
  });
  return { file, name: f.name ?? path.basename(file, ".json"), out, axes, runs };
}

/** Run I of the sweep; throws ScdError with the valid range. */
export function sweepRun(s: Sweep, index: number): SweepRun {
  const r = s.runs[index];
  if (!r) throw new ScdError(`${s.file} has ${s.runs.length} run(s), 0..${s.runs.length - 1}; there is no run ${index}`);
  return r;
}
