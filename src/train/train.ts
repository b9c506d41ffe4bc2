/**
 * The train loop, visible top to bottom: data → normalizers → model → AdamW (+EMA) → steps with a progress bar,
 * validation on held-out episodes, atomic periodic checkpoints, exact --resume (step, weights, optimizer, EMA,
 * RNG), metrics JSONL, a loss-curve PNG, and optional periodic evaluation in the simulator.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { ScdError } from "../errors.ts";
import { loadDataset } from "../data/load.ts";
import { withFeatures } from "../data/derive.ts";
import { fitNormalizer, parseNormSet, type NormSet } from "../data/normalizer.ts";
import { splitEpisodes, anchorsForEpisodes, episodeIndexOfSteps } from "../data/windows.ts";
import { getEpisode, concatEpisodes, type EpisodeBuffer } from "../data/episodes.ts";
import { policyDef, parsePolicyConfig, type PolicyModel } from "../policy/model.ts";
import { layoutFromBuffer, buildWindows, type FrameLayout } from "../policy/frames.ts";
import { LearnedPolicy, modelWeights, loadWeightsInto } from "../policy/learned.ts";
import { readCheckpointMeta, readTrainState, type CheckpointMeta } from "../policy/checkpoint.ts";
import { findResumeCheckpoint, saveRunCheckpoint, readMetricLines, runStepDirs } from "./resume.ts";
import { writeFileAtomic } from "../util/fsx.ts";
import { AdamW, type AdamWState } from "./adamw.ts";
import { plotLoss } from "./plot.ts";
import { Rng } from "../util/rng.ts";
import { Progress } from "../util/progress.ts";
import type { TrainConfig } from "./config.ts";

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

export function defaultObsFeatures(buf: EpisodeBuffer): string[] {
  if (buf.schema["observation.keypoints"]) return ["observation.keypoints", "observation.agent_pos"];
  if (buf.schema["observation.state"]) return ["observation.state"];
  throw new ScdError(`cannot choose observation features; pass obsFeatures (the dataset has ${Object.keys(buf.schema).join(", ")})`);
}

export async function train(cfg: TrainConfig, opts: { resume?: boolean; quiet?: boolean; evalHook?: (policy: LearnedPolicy, step: number) => Promise<Record<string, number>> } = {}): Promise<TrainResult> {
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
  let { buffer } = await loadDataset(cfg.dataset);
  if (cfg.episodes) buffer = concatEpisodes(buffer.schema, Array.from({ length: Math.min(cfg.episodes, buffer.episodeEnds.length) }, (_, k) => getEpisode(buffer, k)));
  const obsFeatures = cfg.obsFeatures ?? defaultObsFeatures(buffer);
  buffer = withFeatures(buffer, obsFeatures);
  if (!buffer.schema.action) throw new ScdError(`${cfg.dataset}: the dataset has no "action" feature`);
  const split = splitEpisodes(buffer.episodeEnds.length, cfg.valFraction, cfg.seed);
  // windows whose chunk runs more than maxPadAfterEnd steps past an episode's end are not sampled (Diffusion
  // Policy pads at most n_action_steps − 1 = 7; lerobot drops windows starting in the last frames)
  const horizonOf = (policyConfig as { horizon?: number }).horizon ?? 1;
  const trainAnchors = anchorsForEpisodes(buffer.episodeEnds, split.train, cfg.maxPadAfterEnd === undefined ? undefined : Math.max(0, horizonOf - 1 - cfg.maxPadAfterEnd));
  const valAnchors = anchorsForEpisodes(buffer.episodeEnds, split.val);
  const episodeOf = episodeIndexOfSteps(buffer.episodeEnds);
  const layout: FrameLayout = resumeMeta?.layout ?? layoutFromBuffer(buffer, obsFeatures, def.frameOptions?.(policyConfig));
  const trainSteps = concatEpisodes(buffer.schema, split.train.map((k) => getEpisode(buffer, k)));
  let norms: NormSet = Object.fromEntries([...obsFeatures, "action"].map((n) => [n, fitNormalizer(trainSteps.data[n] as Float32Array, buffer.schema[n].shape.reduce((a, b) => a * b, 1), "minmax")]));
  // ---- model and optimizer
  const model: PolicyModel = def.create(policyConfig, layout, cfg.seed);
  const params = model.parameters();
  const opt = new AdamW(params, { lr: cfg.lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: cfg.weightDecay, clip: cfg.clip, emaDecay: cfg.emaDecay, emaPower: cfg.emaPower }, (n) => model.lrMult(n));
  const rng = new Rng(cfg.seed);
  fs.mkdirSync(cfg.out, { recursive: true });
  const ckptDir = path.join(cfg.out, "checkpoint");
  const metricsPath = path.join(cfg.out, "metrics.jsonl");
  const curve: [number, number][] = [], valCurve: [number, number][] = [];
  let step = 0;
  if (opts.resume) {
    const from = resumeFrom!; // the newest complete one: a crash may have cut the last save
    const meta = resumeMeta!;
    if (meta.policy !== cfg.policy) throw new ScdError(`--resume: ${from} holds a "${meta.policy}" policy, not "${cfg.policy}"`);
    const st = readTrainState(from) as { params: Record<string, Float32Array>; opt: AdamWState; rng: Rng["state"]; step: number };
    if (cfg.steps < st.step) throw new ScdError(`--resume: steps ${cfg.steps} is below the step of ${from} (${st.step})`);
    loadWeightsInto(model, st.params, `${from}/train_state.msgpack`);
    opt.setState(st.opt);
    rng.state = st.rng;
    step = st.step;
    norms = parseNormSet(meta.normalizers, from);
    // keep the metric lines up to the resumed step, so the curve has no duplicates
    if (fs.existsSync(metricsPath)) writeFileAtomic(metricsPath, readMetricLines(metricsPath, step).map((m) => JSON.stringify(m) + "\n").join(""));
  } else if (fs.existsSync(metricsPath)) fs.rmSync(metricsPath);
  if (fs.existsSync(metricsPath))
    for (const m of readMetricLines(metricsPath)) {
      if (m.loss !== undefined) curve.push([m.step as number, m.loss as number]);
      if (m.valLoss !== undefined) valCurve.push([m.step as number, m.valLoss as number]);
    }
  const log = (obj: Record<string, unknown>) => fs.appendFileSync(metricsPath, JSON.stringify(obj) + "\n");
  const P = model.positionsPerWindow, W = model.window, H = model.horizon;
  const meta = (): CheckpointMeta => ({
    format: "scd-checkpoint", version: 1, policy: cfg.policy, config: policyConfig, layout, normalizers: norms, step, numParams: model.numParams(), seed: cfg.seed,
    info: { dataset: path.basename(cfg.dataset), episodes: buffer.episodeEnds.length, trainEpisodes: split.train.length, valEpisodes: split.val.length, trainConfig: cfg, savedAt: new Date().toISOString(), trainSeconds: Math.round(trainSeconds * 100) / 100, machine: machineKind() },
  });
  const emaWeights = () => opt.emaWeights();
  const save = () => {
    saveRunCheckpoint(cfg.out, meta(), emaWeights(), { params: modelWeights(model), opt: opt.getState(), rng: rng.state, step });
    plotLoss(path.join(cfg.out, "loss.png"), curve, valCurve, `${cfg.policy} on ${path.basename(cfg.dataset)}`);
  };
  // validation: fixed anchors and a fixed noise seed, so values are comparable across steps
  const valBatches = (() => {
    if (!valAnchors.length) return [];
    const r = new Rng(12345), n = Math.min(4, Math.ceil(valAnchors.length / cfg.batch));
    return Array.from({ length: n }, () => buildWindows(buffer, layout, norms, Array.from({ length: cfg.batch }, () => valAnchors[r.int(valAnchors.length)]), W, H, P, r, episodeOf));
  })();
  const valLoss = (): number | null => {
    if (!valBatches.length) return null;
    const r = new Rng(999);
    let s = 0;
    for (const b of valBatches) s += tf.tidy(() => model.loss(b, r).dataSync()[0]);
    return s / valBatches.length;
  };
  const lrAt = (s: number) => {
    if (s < cfg.warmup) return (s + 1) / cfg.warmup;
    const p = (s - cfg.warmup) / Math.max(1, cfg.steps - cfg.warmup);
    return cfg.minLrFrac + (1 - cfg.minLrFrac) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, p)));
  };
  // ---- the loop
  const bar = new Progress(`train ${cfg.policy}`, cfg.steps, !opts.quiet && process.env.SCD_QUIET !== "1");
  let lastLoss = NaN, lastVal: number | null = null, stepsDone = 0;
  const tLoop = performance.now();
  const stepAt0 = step;
  let outOfTime = false;
  // training time without validation, evaluation and checkpoints, summed over resumed runs (score-vs-time curves)
  let trainSeconds = 0;
  if (opts.resume && fs.existsSync(metricsPath))
    for (const l of fs.readFileSync(metricsPath, "utf8").split("\n").filter(Boolean)) trainSeconds = JSON.parse(l).trainSeconds ?? trainSeconds;
  while (step < cfg.steps && !outOfTime) {
    const tStep = performance.now();
    const anchors = Array.from({ length: cfg.batch }, () => trainAnchors[rng.int(trainAnchors.length)]);
    const batch = buildWindows(buffer, layout, norms, anchors, W, H, P, rng, episodeOf);
    const { loss } = opt.minimize(() => model.loss(batch, rng), lrAt(step));
    if (!Number.isFinite(loss)) throw new ScdError(`training diverged at step ${step}: loss is ${loss} (try a lower --lr)`);
    step++;
    stepsDone++;
    lastLoss = loss;
    curve.push([step, loss]);
    trainSeconds += (performance.now() - tStep) / 1000;
    const rec: Record<string, unknown> = { step, loss, lr: cfg.lr * lrAt(step - 1), trainSeconds: Math.round(trainSeconds * 100) / 100 };
    if (cfg.valEvery && (step % cfg.valEvery === 0 || step === cfg.steps)) {
      lastVal = valLoss();
      if (lastVal !== null) {
        rec.valLoss = lastVal;
        valCurve.push([step, lastVal]);
      }
    }
    if (opts.evalHook && cfg.evalEvery && step % cfg.evalEvery === 0) {
      const evalModel = def.create(policyConfig, layout, cfg.seed);
      loadWeightsInto(evalModel, emaWeights(), "EMA");
      const p = new LearnedPolicy(cfg.policy, evalModel, layout, norms);
      Object.assign(rec, await opts.evalHook(p, step));
      p.dispose();
    }
    log(rec);
    outOfTime = cfg.maxSeconds !== undefined && (performance.now() - t0) / 1000 > cfg.maxSeconds;
    if ((cfg.ckptEvery && step % cfg.ckptEvery === 0) || step === cfg.steps || outOfTime) save();
    const sps = stepsDone / ((performance.now() - tLoop) / 1000);
    bar.update(step, `loss ${loss.toFixed(4)}${lastVal !== null ? ` val ${lastVal.toFixed(4)}` : ""} ${sps.toFixed(2)} steps/s`, (cfg.steps - step) / sps);
  }
  if (stepAt0 === cfg.steps) save();
  const result = { dir: ckptDir, step, trainLoss: lastLoss, valLoss: lastVal, seconds: (performance.now() - t0) / 1000, numParams: model.numParams() };
  opt.dispose();
  model.dispose();
  return result;
}
