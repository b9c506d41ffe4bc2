/**
 * The train loop, visible top to bottom: data → normalizers → model → AdamW (+EMA) → steps with a progress bar,
 * validation on held-out episodes, atomic periodic checkpoints, exact --resume (step, weights, optimizer, EMA,
 * RNG), metrics JSONL, a loss-curve PNG, and optional periodic evaluation in the simulator.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ScdError } from "../errors.ts";
import { loadDataset } from "../datasets/load.ts";
import { parseNormSet } from "../datasets/normalizer.ts";
import { policyDef, parsePolicyConfig } from "../policies/registry.ts";
import { LearnedPolicy, modelWeights, loadWeightsInto } from "../policies/learned.ts";
import { readCheckpointMeta, readTrainState, type CheckpointMeta } from "../checkpoints/checkpoint.ts";
import { findResumeCheckpoint, saveRunCheckpoint, readMetricLines, runStepDirs } from "../checkpoints/run-dir.ts";
import { writeFileAtomic } from "../util/fsx.ts";
import type { AdamWState } from "./adamw.ts";
import { prepareTrainData, TrainSession, lrMultiplier } from "./session.ts";
import { plotLoss } from "./plot.ts";
import { Rng } from "../util/rng.ts";
import { Progress } from "../util/progress.ts";
import type { TrainConfig } from "./config.ts";

/** What a finished training run reports: its output directory, the last step, the final losses, the time and the model size. */
export interface TrainResult {
  dir: string;
  step: number;
  trainLoss: number;
  valLoss: number | null;
  seconds: number;
  numParams: number;
}

/** The machine a run trained on, as checkpoints record it (info.machine): "<cores> × <CPU model>". */
export function machineKind(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() || "unknown CPU"}`;
}

export { defaultObsFeatures } from "./session.ts";

/**
 * Train `cfg.policy` on `cfg.dataset` into `cfg.out`. With `resume`, continue the run's newest complete checkpoint.
 * A resumed run with the same `steps` equals an uninterrupted one bit for bit; with other `steps` the learning rate
 * follows the new length's schedule from the resumed step on (the run's earlier steps keep theirs), and `warn` says
 * so with both values (default: a line on stderr unless quiet).
 * @throws ScdError for a run directory that holds another run, a checkpoint of another policy, fewer steps than done.
 */
export async function train(cfg: TrainConfig, opts: { resume?: boolean; quiet?: boolean; warn?: (line: string) => void; evalHook?: (policy: LearnedPolicy, step: number) => Promise<Record<string, number>> } = {}): Promise<TrainResult> {
  const t0 = performance.now();
  const def = policyDef(cfg.policy);
  // a resumed run keeps the architecture its checkpoint was built with, even if the defaults changed since
  const resumeFrom = opts.resume ? findResumeCheckpoint(cfg.out) : null;
  // a fresh run into a run directory would mix two runs' checkpoints (and a later --resume would pick the wrong one)
  const earlier = opts.resume ? [] : runStepDirs(cfg.out);
  if (earlier.length) throw new ScdError(`${cfg.out}: holds a training run already (${earlier.length} step checkpoint${earlier.length > 1 ? "s" : ""}, newest ${path.basename(earlier[0])}); pass --resume to continue it, or choose another --out`);
  const resumeMeta = resumeFrom ? readCheckpointMeta(resumeFrom) : null;
  const policyConfig = resumeMeta
    ? parsePolicyConfig(def, { ...def.savedDefaults, ...(resumeMeta.config as Record<string, unknown>) }, `${resumeFrom}/checkpoint.json`)
    : parsePolicyConfig(def, cfg.policyConfig, "policyConfig");
  // ---- data
  const loaded = (await loadDataset(cfg.dataset)).buffer;
  const resumed = resumeMeta ? { layout: resumeMeta.layout, norms: parseNormSet(resumeMeta.normalizers, resumeFrom!) } : undefined;
  const data = prepareTrainData(loaded, cfg, def, policyConfig, cfg.dataset, resumed);
  const buffer = data.buffer;
  const { split } = data;
  // ---- model and optimizer
  const session = new TrainSession(def, policyConfig, data, cfg);
  const { model, opt, rng } = session;
  fs.mkdirSync(cfg.out, { recursive: true });
  const ckptDir = path.join(cfg.out, "checkpoint");
  const metricsPath = path.join(cfg.out, "metrics.jsonl");
  const curve: [number, number][] = [], valCurve: [number, number][] = [];
  if (opts.resume) {
    const from = resumeFrom!; // the newest complete one: a crash may have cut the last save
    const meta = resumeMeta!;
    if (policyDef(meta.policy).name !== policyDef(cfg.policy).name) throw new ScdError(`--resume: ${from} holds a "${meta.policy}" policy, not "${cfg.policy}"`);
    const st = readTrainState(from) as { params: Record<string, Float32Array>; opt: AdamWState; rng: Rng["state"]; step: number };
    if (cfg.steps < st.step) throw new ScdError(`--resume: steps ${cfg.steps} is below the step of ${from} (${st.step})`);
    loadWeightsInto(model, st.params, `${from}/train_state.msgpack`);
    opt.setState(st.opt);
    rng.state = st.rng;
    session.step = st.step;
    const savedSteps = (meta.info.trainConfig as { steps?: number } | undefined)?.steps;
    if (savedSteps !== undefined && savedSteps !== cfg.steps && st.step < cfg.steps) {
      const was = cfg.lr * lrMultiplier(st.step, { ...cfg, steps: savedSteps }), now = cfg.lr * session.lrAt(st.step);
      const line = `warning: steps ${cfg.steps} differs from the run's ${savedSteps}: from step ${st.step + 1} the learning rate follows the cosine schedule of a ${cfg.steps}-step run (${now.toExponential(3)} at step ${st.step + 1}, where the ${savedSteps}-step schedule had ${was.toExponential(3)}); steps 1–${st.step} kept theirs, so this run differs from an uninterrupted ${cfg.steps}-step one`;
      (opts.warn ?? ((l: string) => !opts.quiet && process.stderr.write(l + "\n")))(line);
    }
    // keep the metric lines up to the resumed step, so the curve has no duplicates
    if (fs.existsSync(metricsPath)) writeFileAtomic(metricsPath, readMetricLines(metricsPath, st.step).map((m) => JSON.stringify(m) + "\n").join(""));
  } else if (fs.existsSync(metricsPath)) fs.rmSync(metricsPath);
  if (fs.existsSync(metricsPath))
    for (const m of readMetricLines(metricsPath)) {
      if (m.loss !== undefined) curve.push([m.step as number, m.loss as number]);
      if (m.valLoss !== undefined) valCurve.push([m.step as number, m.valLoss as number]);
    }
  const log = (obj: Record<string, unknown>) => fs.appendFileSync(metricsPath, JSON.stringify(obj) + "\n");
  const meta = (): CheckpointMeta =>
    session.meta({ dataset: path.basename(cfg.dataset), episodes: buffer.episodeEnds.length, trainEpisodes: split.train.length, valEpisodes: split.val.length, trainConfig: cfg, savedAt: new Date().toISOString(), trainSeconds: Math.round(trainSeconds * 100) / 100, machine: machineKind() });
  const emaWeights = () => session.emaWeights();
  const save = () => {
    saveRunCheckpoint(cfg.out, meta(), emaWeights(), { params: modelWeights(model), opt: opt.getState(), rng: rng.state, step: session.step }, 3, cfg.keepEvery);
    plotLoss(path.join(cfg.out, "loss.png"), curve, valCurve, `${cfg.policy} on ${path.basename(cfg.dataset)}`);
  };
  // ---- the loop
  const bar = new Progress(`train ${cfg.policy}`, cfg.steps, !opts.quiet && process.env.SCD_QUIET !== "1");
  let lastLoss = NaN, lastVal: number | null = null, stepsDone = 0;
  const tLoop = performance.now();
  const stepAt0 = session.step;
  let outOfTime = false;
  // training time without validation, evaluation and checkpoints, summed over resumed runs (score-vs-time curves)
  let trainSeconds = 0;
  // wall-clock seconds of the run summed over resumes: a time schedule's clock (its budget spans every resume)
  let wallBefore = 0;
  if (opts.resume && fs.existsSync(metricsPath))
    for (const m of readMetricLines(metricsPath)) {
      trainSeconds = (m.trainSeconds as number | undefined) ?? trainSeconds;
      wallBefore = (m.wallSeconds as number | undefined) ?? wallBefore;
    }
  const byTime = cfg.schedule === "time" && cfg.maxSeconds !== undefined;
  const wall = () => wallBefore + (performance.now() - t0) / 1000;
  const timeLeft = () => (cfg.maxSeconds === undefined ? Infinity : Math.max(0, cfg.maxSeconds - (byTime ? wall() : (performance.now() - t0) / 1000)));
  // a time schedule's progress: the share of --max-seconds gone (drives the rate and the progress bar)
  const timeShare = () => (byTime ? Math.min(1, wall() / cfg.maxSeconds!) : undefined);
  while (session.step < cfg.steps && !outOfTime) {
    if (byTime) session.timeFraction = timeShare()!;
    const tStep = performance.now();
    const loss = await session.trainStepAsync(); // image frames are loaded per batch (lazy sources)
    const step = session.step;
    stepsDone++;
    lastLoss = loss;
    curve.push([step, loss]);
    trainSeconds += (performance.now() - tStep) / 1000;
    const rec: Record<string, unknown> = { step, loss, lr: cfg.lr * session.lrAt(step - 1), trainSeconds: Math.round(trainSeconds * 100) / 100, wallSeconds: Math.round(wall() * 100) / 100 };
    if (session.lastParts?.aux !== undefined) rec.auxLoss = session.lastParts.aux; // SCD's auxTarget: its head's MSE
    if (cfg.valEvery && (step % cfg.valEvery === 0 || step === cfg.steps)) {
      lastVal = await session.valLossAsync();
      if (lastVal !== null) {
        rec.valLoss = lastVal;
        if (session.lastValParts?.aux !== undefined) rec.valAuxLoss = session.lastValParts.aux;
        valCurve.push([step, lastVal]);
      }
    }
    if (opts.evalHook && cfg.evalEvery && step % cfg.evalEvery === 0) {
      const evalModel = def.create(session.policyConfig, data.layout, cfg.seed);
      loadWeightsInto(evalModel, emaWeights(), "EMA");
      const p = new LearnedPolicy(cfg.policy, evalModel, data.layout, data.norms);
      Object.assign(rec, await opts.evalHook(p, step));
      p.dispose();
    }
    log(rec);
    outOfTime = timeLeft() <= 0;
    if ((cfg.ckptEvery && step % cfg.ckptEvery === 0) || step === cfg.steps || outOfTime) save();
    const sps = stepsDone / ((performance.now() - tLoop) / 1000);
    // a time budget ends the run first when the steps left would outlast it (with a time schedule, it always does
    // unless the --steps cap comes first): that ETA is the clock's, not an extrapolated speed
    const eta = Math.min((cfg.steps - step) / sps, timeLeft());
    bar.update(step, `loss ${loss.toFixed(4)}${lastVal !== null ? ` val ${lastVal.toFixed(4)}` : ""} ${sps.toFixed(2)} steps/s`, eta, byTime && outOfTime ? 1 : timeShare());
  }
  if (stepAt0 === cfg.steps) {
    // resumed at its final step, nothing trained: report the losses its metrics recorded last
    lastLoss = curve.at(-1)?.[1] ?? NaN;
    lastVal = valCurve.at(-1)?.[1] ?? null;
    save();
  }
  const result = { dir: ckptDir, step: session.step, trainLoss: lastLoss, valLoss: lastVal, seconds: (performance.now() - t0) / 1000, numParams: model.numParams() };
  session.dispose();
  return result;
}
