/**
 * One training run's core without files (browser-safe): episodes → train/val split, window anchors, frame layout and
 * normalizers (prepareTrainData); then model + AdamW (+EMA) and the step itself (TrainSession). `train()` (train.ts)
 * adds the files — dataset loading, checkpoints, --resume, metrics, plots; the page trains with it in a Web Worker.
 */
import * as tf from "@tensorflow/tfjs";
import { ScdError } from "../errors.ts";
import { withFeatures } from "../datasets/derive.ts";
import { fitNormalizer, imageNormalizer, type NormSet } from "../datasets/normalizer.ts";
import { splitEpisodes, anchorsForEpisodes, episodeIndexOfSteps } from "../datasets/windows.ts";
import { getEpisode, concatEpisodes, firstEpisodes, firstNonFinite, type EpisodeBuffer } from "../datasets/episodes.ts";
import type { PolicyDef, PolicyModel } from "../policies/registry.ts";
import { layoutFromBuffer, buildWindows, buildWindowsAsync, type FrameLayout, type WindowTensors } from "../policies/frames.ts";
import type { CheckpointMeta, Weights } from "../checkpoints/format.ts";
import { AdamW } from "./adamw.ts";
import { Rng } from "../util/rng.ts";
import { TrainConfig } from "./config.ts";

/** The optimisation settings a session reads (TrainConfig's, whose schema holds the defaults and their sources). */
export type SessionConfig = Pick<TrainConfig, "policy" | "steps" | "batch" | "lr" | "warmup" | "minLrFrac" | "weightDecay" | "clip" | "emaDecay" | "emaPower" | "seed"> & Partial<Pick<TrainConfig, "beta1" | "beta2">>;

/**
 * The observation features a policy reads when none are named: Push-T's keypoints + agent position when present,
 * else the state vector.
 * @throws ScdError naming the dataset's features when it has neither.
 */
export function defaultObsFeatures(buf: EpisodeBuffer): string[] {
  if (buf.schema["observation.keypoints"]) return ["observation.keypoints", "observation.agent_pos"];
  if (buf.schema["observation.state"]) return ["observation.state"];
  throw new ScdError(`cannot choose observation features; pass obsFeatures (the dataset has ${Object.keys(buf.schema).join(", ")})`);
}

/** Everything a training step samples from: the episodes, their split, window anchors, frame layout and normalizers ({@link prepareTrainData}). */
export interface TrainData {
  /** The episodes trained on (cut to `episodes`, derived features added). */
  buffer: EpisodeBuffer;
  obsFeatures: string[];
  /** Episode indices of the training and held-out sets. */
  split: { train: number[]; val: number[] };
  /** Global step indices a window may start at, in training / held-out episodes (windows.ts). */
  trainAnchors: Int32Array;
  valAnchors: Int32Array;
  /** The episode index of each global step (one entry per step of the buffer). */
  episodeOf: Int32Array;
  layout: FrameLayout;
  /** min-max normalizers fitted on the training episodes (or a resumed checkpoint's); images: per channel, x/255 → [−1, 1]. */
  norms: NormSet;
}

/**
 * Episodes → everything the step samples from: the first `cfg.episodes` episodes (all when unset), split into
 * training and held-out sets, window anchors (windows whose chunk — `policyConfig.horizon` actions — runs more than
 * `cfg.maxPadAfterEnd` steps past an episode's end are not sampled), the frame layout and min-max normalizers fitted
 * on the training episodes. `resumed`: a checkpoint's layout and normalizers replace those. `where` names the data in errors.
 * Image features (uint8 [H, W, 3], for a policy that takes them) stay where they are (a file, Zarr chunks): no frame
 * is read here; their normalizer is the "image" mode's x/255 → [−1, 1] per channel, not a min–max over pixels.
 * @throws ScdError when the dataset has no "action" or no usable observation features, or an image feature is not uint8 [H, W, 3];
 * when an auxiliary target (SCD's auxTarget) is not in the dataset, is an image, or (resumed) changed size.
 */
export function prepareTrainData(buffer: EpisodeBuffer, cfg: Pick<TrainConfig, "episodes" | "obsFeatures" | "valFraction" | "seed" | "maxPadAfterEnd">, def: PolicyDef, policyConfig: Record<string, unknown>, where: string, resumed?: { layout: FrameLayout; norms: NormSet }): TrainData {
  // lazy image frames are cut as views, never read (copying the episodes would read every frame)
  if (cfg.episodes) buffer = buffer.frames ? firstEpisodes(buffer, cfg.episodes) : concatEpisodes(buffer.schema, Array.from({ length: Math.min(cfg.episodes, buffer.episodeEnds.length) }, (_, k) => getEpisode(buffer, k)));
  const obsFeatures = cfg.obsFeatures ?? defaultObsFeatures(buffer);
  const auxNames = def.frameOptions?.(policyConfig).aux ?? [];
  withFeatures(buffer, obsFeatures); // an observation feature's own error first
  try {
    buffer = withFeatures(buffer, [...obsFeatures, ...auxNames]); // aux targets may be derived features too
  } catch (e) {
    const name = auxNames.find((n) => !buffer.schema[n]);
    throw name ? new ScdError(`${where}: auxiliary target feature "${name}" is not in the dataset (it has ${Object.keys(buffer.schema).join(", ")})`) : e;
  }
  if (!buffer.schema.action) throw new ScdError(`${where}: the dataset has no "action" feature`);
  // a resumed run's targets must still be the dataset's (same name and size)
  for (const f of resumed?.layout.aux ?? [])
    if (!buffer.schema[f.name] || buffer.schema[f.name].shape.reduce((a, b) => a * b, 1) !== f.dim) throw new ScdError(`${where}: the checkpoint's auxiliary target "${f.name}" [${f.dim}] is not in the dataset with that size`);
  // a NaN would otherwise surface as a normalizer error with a flat index, or as a diverged loss
  for (const n of [...obsFeatures, ...auxNames.filter((n) => buffer.schema[n] && !buffer.frames?.[n]), "action"]) {
    const bad = firstNonFinite(buffer, n);
    if (bad) throw new ScdError(`${where}: feature "${n}" is not finite at episode ${bad.episode}, frame ${bad.frame}, dimension ${bad.dim}: ${bad.value} (fill or drop that episode, or train on other features: obsFeatures, --obs-features)`);
  }
  const split = splitEpisodes(buffer.episodeEnds.length, cfg.valFraction, cfg.seed);
  // windows whose chunk runs more than maxPadAfterEnd steps past an episode's end are not sampled (Diffusion
  // Policy pads at most n_action_steps − 1 = 7; lerobot drops windows starting in the last frames)
  const horizonOf = (policyConfig as { horizon?: number }).horizon ?? 1;
  const trainAnchors = anchorsForEpisodes(buffer.episodeEnds, split.train, cfg.maxPadAfterEnd === undefined ? undefined : Math.max(0, horizonOf - 1 - cfg.maxPadAfterEnd));
  const valAnchors = anchorsForEpisodes(buffer.episodeEnds, split.val);
  const episodeOf = episodeIndexOfSteps(buffer.episodeEnds);
  const layout = resumed?.layout ?? layoutFromBuffer(buffer, obsFeatures, def.frameOptions?.(policyConfig));
  const images = new Set((layout.images ?? []).map((f) => f.name));
  const flat = [...obsFeatures.filter((n) => !images.has(n)), ...(layout.aux ?? []).map((f) => f.name).filter((n) => !obsFeatures.includes(n)), "action"];
  // the low-dimensional features of the training episodes (image features left out: never copied)
  const flatSchema = Object.fromEntries(flat.map((n) => [n, buffer.schema[n]]));
  const lowDim: EpisodeBuffer = { schema: flatSchema, data: Object.fromEntries(flat.map((n) => [n, buffer.data[n]])), episodeEnds: buffer.episodeEnds };
  const trainSteps = concatEpisodes(flatSchema, split.train.map((k) => getEpisode(lowDim, k)));
  const norms: NormSet = resumed?.norms ?? Object.fromEntries([
    ...flat.map((n) => [n, fitNormalizer(trainSteps.data[n] as Float32Array, buffer.schema[n].shape.reduce((a, b) => a * b, 1), "minmax", `${where}: feature "${n}"`)]),
    ...(layout.images ?? []).map((f) => [f.name, imageNormalizer(f.shape, "unit", undefined, `${where}: feature "${f.name}"`)]),
  ]);
  return { buffer, obsFeatures, split, trainAnchors, valAnchors, episodeOf, layout, norms };
}

/**
 * The learning-rate multiplier at step `s` (0-based) of a `steps`-step run: linear warm-up over `warmup` steps, then
 * cosine decay to `minLrFrac` at `steps` (SGDR's cosine without restarts, Loshchilov & Hutter 2017, as Diffusion
 * Policy's diffusers `get_scheduler("cosine")`, with a floor). With `timeFraction` (a time schedule: the share of the
 * wall-clock budget used, 0–1) the cosine follows that instead of the step count, under the same step warm-up, so a
 * run stopped by its budget has decayed fully whatever speed the machine ran at.
 */
export function lrMultiplier(s: number, c: Pick<TrainConfig, "warmup" | "steps" | "minLrFrac">, timeFraction?: number): number {
  const cosine = (p: number) => c.minLrFrac + (1 - c.minLrFrac) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, p))));
  // a time schedule: the cosine runs over the budget's wall clock; the warm-up (in steps) caps it at the start
  if (timeFraction !== undefined) return Math.min(s < c.warmup ? (s + 1) / c.warmup : 1, cosine(timeFraction));
  if (s < c.warmup) return (s + 1) / c.warmup;
  return cosine((s - c.warmup) / Math.max(1, c.steps - c.warmup));
}

/** The model, its optimizer and the sampling RNG, stepped one batch at a time. dispose() frees every tensor. */
export class TrainSession {
  readonly model: PolicyModel;
  readonly opt: AdamW;
  readonly rng: Rng;
  step = 0;
  /** With a time schedule: the share of the time budget used so far (0–1), set before each step; else undefined. */
  timeFraction: number | undefined = undefined;
  private valBatches: ReturnType<typeof buildWindows>[] | null = null;

  /** The policy config the model is built from and checkpoints record (completed for the layout: PolicyDef.configForLayout). */
  readonly policyConfig: Record<string, unknown>;

  /** A fresh model (weights from `cfg.seed`) for `data.layout`, AdamW with EMA on its parameters, and the batch RNG (seed `cfg.seed`). */
  constructor(readonly def: PolicyDef, policyConfig: Record<string, unknown>, readonly data: TrainData, readonly cfg: SessionConfig) {
    this.policyConfig = (def.configForLayout?.(policyConfig, data.layout) ?? policyConfig) as Record<string, unknown>;
    this.model = def.create(this.policyConfig, data.layout, cfg.seed);
    this.opt = new AdamW(this.model.parameters(), { lr: cfg.lr, beta1: cfg.beta1 ?? TrainConfig.shape.beta1.parse(undefined), beta2: cfg.beta2 ?? TrainConfig.shape.beta2.parse(undefined), eps: 1e-8, weightDecay: cfg.weightDecay, clip: cfg.clip, emaDecay: cfg.emaDecay, emaPower: cfg.emaPower }, (n) => this.model.lrMult(n));
    this.rng = new Rng(cfg.seed);
  }

  /** The learning-rate multiplier at step `s` (0-based) of this run: lrMultiplier of its config. */
  lrAt(s: number): number {
    return lrMultiplier(s, this.cfg, this.timeFraction);
  }

  /**
   * One optimizer step on `cfg.batch` windows drawn from the training anchors; returns the policy's training loss on
   * them (its objective in normalized action units, e.g. the flow-matching MSE), before the update. A loss with
   * several terms (SCD's auxTarget) is minimized whole; the chunk term is returned, all terms are in `lastParts`.
   * @throws ScdError when the loss is not finite (divergence).
   */
  trainStep(): number {
    const { data: d, model, rng } = this;
    return this.stepOn(buildWindows(d.buffer, d.layout, d.norms, this.drawAnchors(), model.window, model.horizon, model.positionsPerWindow, rng, d.episodeOf));
  }

  /**
   * {@link trainStep} for any data: the batch's image frames are loaded first (buildWindowsAsync: a Zarr store's
   * chunks, a video's frames); the same step, loss and random draws as trainStep.
   * @throws ScdError when the loss is not finite (divergence).
   */
  async trainStepAsync(): Promise<number> {
    const { data: d, model, rng } = this;
    if (!d.buffer.frames) return this.trainStep();
    return this.stepOn(await buildWindowsAsync(d.buffer, d.layout, d.norms, this.drawAnchors(), model.window, model.horizon, model.positionsPerWindow, rng, d.episodeOf));
  }

  private drawAnchors(): number[] {
    const { data: d, rng, cfg } = this;
    return Array.from({ length: cfg.batch }, () => d.trainAnchors[rng.int(d.trainAnchors.length)]);
  }

  /** The last training step's loss terms when the model's loss has several (e.g. SCD with auxTarget: { chunk, aux }), else null. */
  lastParts: Record<string, number> | null = null;
  /** The same for the last held-out loss (means over its batches). */
  lastValParts: Record<string, number> | null = null;

  private stepOn(batch: WindowTensors): number {
    const { model, rng } = this;
    const { loss } = this.opt.minimize(() => model.loss(batch, rng), this.lrAt(this.step));
    if (!Number.isFinite(loss)) throw new ScdError(`training diverged at step ${this.step}: loss is ${loss} (try a lower --lr)`);
    this.step++;
    this.lastParts = model.lossParts?.() ?? null;
    // the policy's own objective is what `loss` means across runs; an auxiliary term is reported beside it
    return this.lastParts?.chunk ?? loss;
  }

  /** One held-out batch's loss (its chunk term when the loss has parts), adding its parts into `sums`. */
  private valOn(b: WindowTensors, r: Rng, sums: Record<string, number>): number {
    const total = tf.tidy(() => this.model.loss(b, r).dataSync()[0]);
    const parts = this.model.lossParts?.() ?? null;
    for (const [k, v] of Object.entries(parts ?? {})) sums[k] = (sums[k] ?? 0) + v;
    return parts?.chunk ?? total;
  }

  private valParts(sums: Record<string, number>, n: number): Record<string, number> | null {
    const keys = Object.keys(sums);
    return keys.length ? Object.fromEntries(keys.map((k) => [k, sums[k] / n])) : null;
  }

  /** Loss on held-out episodes: fixed anchors and a fixed noise seed, so values are comparable across steps (null: no held-out episodes). */
  valLoss(): number | null {
    const { data: d, model, cfg } = this;
    if (!this.valBatches) {
      const r = new Rng(12345), n = Math.min(4, Math.ceil(d.valAnchors.length / cfg.batch));
      this.valBatches = d.valAnchors.length ? Array.from({ length: n }, () => buildWindows(d.buffer, d.layout, d.norms, Array.from({ length: cfg.batch }, () => d.valAnchors[r.int(d.valAnchors.length)]), model.window, model.horizon, model.positionsPerWindow, r, d.episodeOf)) : [];
    }
    if (!this.valBatches.length) return null;
    const r = new Rng(999), sums: Record<string, number> = {};
    let s = 0;
    for (const b of this.valBatches) s += this.valOn(b, r, sums);
    this.lastValParts = this.valParts(sums, this.valBatches.length);
    return s / this.valBatches.length;
  }

  /**
   * {@link valLoss} for any data. With lazy image frames the held-out batches are rebuilt at each call (the same
   * anchors and draws), not kept: 4 batches of 64 windows of 2 Push-T frames would hold 57 MB of normalized pixels.
   */
  async valLossAsync(): Promise<number | null> {
    const { data: d, model, cfg } = this;
    if (!d.buffer.frames) return this.valLoss();
    if (!d.valAnchors.length) return null;
    const r = new Rng(12345), n = Math.min(4, Math.ceil(d.valAnchors.length / cfg.batch)), rl = new Rng(999), sums: Record<string, number> = {};
    let s = 0;
    for (let i = 0; i < n; i++) {
      const b = await buildWindowsAsync(d.buffer, d.layout, d.norms, Array.from({ length: cfg.batch }, () => d.valAnchors[r.int(d.valAnchors.length)]), model.window, model.horizon, model.positionsPerWindow, r, d.episodeOf);
      s += this.valOn(b, rl, sums);
    }
    this.lastValParts = this.valParts(sums, n);
    return s / n;
  }

  /** The EMA weights (what inference uses). */
  emaWeights(): Weights {
    return this.opt.emaWeights();
  }

  /** checkpoint.json's contents for the current step; `info` as train.ts or the page records it. */
  meta(info: Record<string, unknown>): CheckpointMeta {
    const d = this.data;
    return { format: "scd-checkpoint", version: 1, policy: this.cfg.policy, config: this.policyConfig, layout: d.layout, normalizers: d.norms, step: this.step, numParams: this.model.numParams(), seed: this.cfg.seed, info };
  }

  /** Free every tensor of the model and the optimizer. */
  dispose(): void {
    this.opt.dispose();
    this.model.dispose();
  }
}
