/**
 * Run one sweep run: train (resuming from the run's checkpoint if a previous attempt was cut off, within the
 * run's wall-clock budget `train.maxSeconds` summed over attempts), then evaluate the final checkpoint.
 * Files in the run directory: run.json (settings), train-time.json (budget accounting), train.json (written when
 * training is finished), eval.json (written last: its presence means the run is finished).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ScdError } from "../errors.ts";
import { train } from "../train/train.ts";
import { evaluate } from "../eval/evaluate.ts";
import { makeEnv } from "../envs/registry.ts";
import { policyFactory } from "../checkpoints/resolve.ts";
import { readCheckpointMeta } from "../checkpoints/checkpoint.ts";
import { checkFeatures } from "../policies/types.ts";
import type { LearnedPolicy } from "../policies/learned.ts";
import type { Strategy } from "../loop/queue.ts";
import { writeFileAtomic } from "../util/fsx.ts";
import type { SweepEval, SweepRun } from "./grid.ts";

export interface TrainRecord {
  step: number;
  steps: number;
  /** wall-clock seconds of training over all attempts */
  seconds: number;
  stopped: "steps" | "budget";
  numParams: number;
  trainLoss: number | null;
  valLoss: number | null;
  attempts: number;
}

const readJson = <T>(f: string): T | null => (fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, "utf8")) as T) : null);
const writeJson = (f: string, v: unknown) => writeFileAtomic(f, JSON.stringify(v, null, 2) + "\n");

export function sweepStrategy(e: SweepEval, horizon: number): Strategy {
  if (e.strategy === "ensemble") return { kind: "ensemble", m: e.ensembleM };
  if (e.strategy === "async") return { kind: "async", threshold: e.asyncThreshold ?? Math.floor(horizon / 2), merge: e.merge };
  const n = e.execute ?? Math.min(8, horizon);
  if (n > horizon) throw new ScdError(`eval.execute ${n} exceeds the policy's chunk length ${horizon}`);
  return { kind: "receding", execute: n };
}

/** Seconds already spent in earlier attempts; an attempt cut off mid-run counts up to its last checkpoint. */
function spentSeconds(run: SweepRun): { seconds: number; attempts: number } {
  const t = readJson<{ seconds: number; attempts: number; attemptStartedAt?: number }>(path.join(run.dir, "train-time.json"));
  if (!t) return { seconds: 0, attempts: 0 };
  let seconds = t.seconds;
  const meta = path.join(run.dir, "checkpoint", "checkpoint.json");
  if (t.attemptStartedAt !== undefined && fs.existsSync(meta)) {
    const savedAt = Date.parse(String(readCheckpointMeta(path.dirname(meta)).info.savedAt ?? ""));
    if (savedAt > t.attemptStartedAt) seconds += (savedAt - t.attemptStartedAt) / 1000;
  }
  return { seconds, attempts: t.attempts };
}

async function trainRun(run: SweepRun, log: (s: string) => void): Promise<TrainRecord> {
  const cfg = run.train;
  const spent = spentSeconds(run);
  const resume = fs.existsSync(path.join(run.dir, "checkpoint", "train_state.msgpack"));
  // at least one step per attempt, so a run whose budget ran out still ends with a checkpoint
  const left = cfg.maxSeconds === undefined ? undefined : Math.max(1e-3, cfg.maxSeconds - spent.seconds);
  writeJson(path.join(run.dir, "train-time.json"), { seconds: spent.seconds, attempts: spent.attempts + 1, attemptStartedAt: Date.now() });
  log(`run ${run.index}: ${resume ? "resuming" : "training"} ${cfg.policy}${left !== undefined ? ` (budget left ${left.toFixed(0)} s)` : ""} → ${run.dir}`);
  const evalEnv = cfg.evalEnv ?? run.eval.env;
  const evalHook = cfg.evalEvery
    ? async (p: LearnedPolicy) => {
        const r = await evaluate({ makeEnv: () => makeEnv(evalEnv), makePolicy: async () => p, episodes: cfg.evalEpisodes, seedStart: cfg.evalSeedStart, parallel: 1, loop: { strategy: { kind: "receding", execute: Math.min(8, p.horizon) }, latencyMs: 0 } });
        return { evalAvgMaxReward: r.aggregated.avg_max_reward, evalPcSuccess: r.aggregated.pc_success };
      }
    : undefined;
  const r = await train({ ...cfg, ...(left !== undefined ? { maxSeconds: left } : {}) }, { resume, evalHook });
  const seconds = spent.seconds + r.seconds;
  writeJson(path.join(run.dir, "train-time.json"), { seconds, attempts: spent.attempts + 1 });
  return {
    step: r.step,
    steps: cfg.steps,
    seconds,
    stopped: r.step >= cfg.steps ? "steps" : "budget",
    numParams: r.numParams,
    trainLoss: Number.isFinite(r.trainLoss) ? r.trainLoss : null,
    valLoss: r.valLoss,
    attempts: spent.attempts + 1,
  };
}

/** Evaluate the run's checkpoint by `run.eval`; the report is what `scd eval --json` writes. */
async function evalRun(run: SweepRun): Promise<Record<string, unknown>> {
  const e = run.eval;
  const ckpt = path.join(run.dir, "checkpoint");
  const envOpts = e.obsMode ? { obsMode: e.obsMode } : {};
  const probe = await makeEnv(e.env, envOpts);
  const make = await policyFactory(ckpt, e.env, probe.actionSpace);
  const p0 = await make();
  checkFeatures(p0, Object.keys(probe.observationSpace), `env ${e.env}`);
  const horizon = p0.horizon;
  p0.dispose?.();
  const report = await evaluate({
    makeEnv: () => makeEnv(e.env, envOpts),
    makePolicy: make,
    episodes: e.episodes,
    seedStart: e.seedStart,
    parallel: e.parallel,
    loop: { strategy: sweepStrategy(e, horizon), latencyMs: e.latency, ...(e.steps !== undefined ? { steps: e.steps } : {}) },
    plotPath: path.join(run.dir, "eval_scores.png"),
  });
  return { env: e.env, policy: ckpt, seed_start: e.seedStart, ...report };
}

export type RunOutcome = "finished" | "already finished";

/**
 * Train and evaluate one run; safe to call again after an interruption (it resumes) or after it finished
 * (it does nothing). Throws ScdError if the run directory holds a different run (the grid file changed).
 */
export async function runSweepRun(run: SweepRun, log: (s: string) => void = () => {}): Promise<RunOutcome> {
  fs.mkdirSync(run.dir, { recursive: true });
  const runFile = path.join(run.dir, "run.json");
  const settings = { index: run.index, overrides: run.overrides, train: run.train, eval: run.eval };
  const prev = readJson<typeof settings>(runFile);
  if (prev && JSON.stringify(prev) !== JSON.stringify(settings))
    throw new ScdError(`${runFile} holds different settings than run ${run.index} of the sweep file (was the grid edited?); move the run directory away or restore the grid`);
  if (!prev) writeJson(runFile, settings);
  if (fs.existsSync(path.join(run.dir, "eval.json"))) return "already finished";
  const trainFile = path.join(run.dir, "train.json");
  const rec = readJson<TrainRecord>(trainFile) ?? (await trainRun(run, log));
  writeJson(trainFile, rec);
  log(`run ${run.index}: trained to step ${rec.step}/${rec.steps} in ${rec.seconds.toFixed(0)} s (${rec.stopped}); evaluating on ${run.eval.env}`);
  writeJson(path.join(run.dir, "eval.json"), await evalRun(run));
  return "finished";
}
