/** Built-in non-learned policies: `expert` (an env's scripted expert, registered beside the env), `random`. */
import { ScdError } from "../errors.ts";
import { envSpec } from "../envs/registry.ts";
import type { Box } from "../envs/types.ts";
import { Rng } from "../util/rng.ts";
import type { ChunkPolicy } from "./types.ts";

const EXPERTS = new Map<string, () => Promise<() => ChunkPolicy>>();

/**
 * Register env `envId`'s scripted expert: one line beside the env's registration (src/envs/index.ts), loaded on
 * first use. @throws Error when the env already has one.
 */
export function registerExpert(envId: string, load: () => Promise<() => ChunkPolicy>): void {
  if (EXPERTS.has(envId)) throw new Error(`env "${envId}" has an expert registered twice`);
  EXPERTS.set(envId, load);
}

/** The factory of env `envId`'s scripted expert (loading its module), or null when the env has none. */
export async function expertFor(envId: string): Promise<(() => ChunkPolicy) | null> {
  const load = EXPERTS.get(envId);
  return load ? await load() : null;
}

export class RandomPolicy implements ChunkPolicy {
  readonly name = "random";
  readonly actionDim: number;
  private rng = new Rng(0);
  constructor(readonly space: Box, readonly horizon = 1) {
    this.actionDim = space.low.length;
  }
  reset(seed = 0): void {
    this.rng = new Rng(seed);
  }
  observe(): void {}
  sampleChunk(): Float32Array {
    const out = new Float32Array(this.horizon * this.actionDim);
    for (let i = 0; i < out.length; i++) {
      const j = i % this.actionDim;
      out[i] = this.space.low[j] + this.rng.next() * (this.space.high[j] - this.space.low[j]);
    }
    return out;
  }
}

/**
 * A built-in policy for an env: "random" (uniform over the action space) or "expert" (the env's scripted expert).
 * @throws ScdError when the env has no scripted expert.
 */
export async function builtinPolicy(name: string, envId: string, actionSpace: Box): Promise<ChunkPolicy> {
  if (name === "random") return new RandomPolicy(actionSpace);
  if (name === "expert") {
    envSpec(envId); // an unknown id errors with the registered ones
    const make = await expertFor(envId);
    if (!make) throw new ScdError(`env "${envId}" has no scripted expert; built-in policies for it: random, replay (with --dataset)`);
    return make();
  }
  throw new ScdError(`unknown policy "${name}"; built-in: expert, random (or a checkpoint directory)`, "unknown-name");
}
