/** A checkpoint's parts (checkpoint.json's metadata and the weights, read from files or fetched) → a tfjs policy. */
import { ScdError } from "../errors.ts";
import { policyDef, parsePolicyConfig, type PolicyModel } from "../policies/registry.ts";
import { LearnedPolicy, loadWeightsInto } from "../policies/learned.ts";
import type { CheckpointMeta, Weights } from "./format.ts";

/** Build a model from checkpoint metadata (config parsed through the policy's schema). */
export function modelFromMeta(meta: CheckpointMeta, where: string): PolicyModel {
  const def = policyDef(meta.policy);
  const config = parsePolicyConfig(def, { ...def.savedDefaults, ...(meta.config as Record<string, unknown>) }, where);
  return def.create(config, meta.layout, meta.seed);
}

/**
 * A policy from a checkpoint's parts (read from files or fetched): builds the model its config describes and loads
 * the weights. `where` names the checkpoint's two files in errors; a refused checkpoint leaves no tensors behind.
 * @throws ScdError when the config, the parameter count or a weight's size/values do not fit.
 */
export function policyFromCheckpoint(meta: CheckpointMeta, weights: Weights, where: { meta: string; weights: string }, batch = 1): LearnedPolicy {
  const model = modelFromMeta(meta, where.meta);
  try {
    if (meta.numParams !== model.numParams()) throw new ScdError(`${where.meta}: numParams is ${meta.numParams}, but its ${meta.policy} config builds ${model.numParams()} parameters`);
    loadWeightsInto(model, weights, where.weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return new LearnedPolicy(meta.policy, model, meta.layout, meta.normalizers, batch);
}
