/**
 * A learned policy as the control loop sees it (ChunkPolicy): normalizes observations into frame vectors, runs
 * the model's once-per-frame step in observe(), samples and unnormalizes chunks. Also save/load.
 */
import * as tf from "@tensorflow/tfjs";
import { ScdError } from "../errors.ts";
import type { ChunkPolicy, Frame } from "./types.ts";
import type { PolicyModel } from "./model.ts";
import { policyDef, parsePolicyConfig } from "./model.ts";
import { frameFromObs, type FrameLayout } from "./frames.ts";
import { unnormalize, type NormSet } from "../data/normalizer.ts";
import { Rng } from "../util/rng.ts";
import { type CheckpointMeta, readCheckpointMeta, readWeights, type Weights } from "./checkpoint.ts";

export class LearnedPolicy implements ChunkPolicy {
  readonly horizon: number;
  readonly actionDim: number;
  readonly requiredFeatures: readonly string[];
  private readonly frame: Float32Array<ArrayBuffer>;
  private rngSeed = 0;

  constructor(readonly name: string, readonly model: PolicyModel, readonly layout: FrameLayout, readonly norms: NormSet, readonly batch = 1) {
    this.horizon = model.horizon;
    this.actionDim = model.actionDim;
    this.frame = new Float32Array(layout.frameDim);
    this.requiredFeatures = layout.obsFeatures.map((f) => f.name);
  }

  reset(seed = 0): void {
    this.rngSeed = seed;
    this.model.reset(this.batch);
  }

  observe(f: Frame): void {
    const v = frameFromObs(this.layout, this.norms, f.obs, f.prevAction, this.frame);
    // not in a tidy: the model keeps its per-frame state (KV cache, context) across calls
    const x = tf.tensor(v, [1, v.length]);
    try {
      this.model.observe(x);
    } finally {
      x.dispose();
    }
  }

  sampleChunk(opts: { steps?: number; seed?: number } = {}): Float32Array {
    const rng = new Rng(opts.seed ?? this.rngSeed);
    const t = this.model.sample(opts.steps ?? this.model.defaultSteps, rng);
    const y = t.dataSync() as Float32Array;
    t.dispose();
    return unnormalize(this.norms.action, y);
  }

  dispose(): void {
    this.model.dispose();
  }
}

export function modelWeights(model: PolicyModel, source?: Map<string, tf.Variable>): Weights {
  return Object.fromEntries([...(source ?? model.parameters())].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
}

export function loadWeightsInto(model: PolicyModel, w: Weights, where: string): void {
  const params = model.parameters();
  for (const [k, p] of params) {
    const arr = w[k];
    if (!arr) throw new ScdError(`${where}: weights have no "${k}" (architecture differs from the config?)`);
    if (arr.length !== p.size) throw new ScdError(`${where}: "${k}" has ${arr.length} values, the model expects ${p.size} (shape [${p.shape}])`);
    for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) throw new ScdError(`${where}: "${k}" contains a non-finite value`);
    p.assign(tf.tensor(arr, p.shape));
  }
  const extra = Object.keys(w).filter((k) => !params.has(k));
  if (extra.length) throw new ScdError(`${where}: weights have unknown parameters: ${extra.slice(0, 3).join(", ")}`);
}

/** Build a model from checkpoint metadata (config parsed through the policy's schema). */
export function modelFromMeta(meta: CheckpointMeta, where: string): PolicyModel {
  const def = policyDef(meta.policy);
  const config = parsePolicyConfig(def, meta.config, where);
  return def.create(config, meta.layout, meta.seed);
}

export function loadPolicy(dir: string, batch = 1): LearnedPolicy {
  const meta = readCheckpointMeta(dir);
  const model = modelFromMeta(meta, dir);
  loadWeightsInto(model, readWeights(dir), `${dir}/weights.msgpack`);
  return new LearnedPolicy(meta.policy, model, meta.layout, meta.normalizers, batch);
}
