/** Built-in non-learned policies: `expert` (from the env's registration), `random`. */
import { ScdError } from "../errors.ts";
import { envSpec } from "../env/registry.ts";
import type { Box } from "../env/types.ts";
import { Rng } from "../util/rng.ts";
import type { ChunkPolicy } from "./types.ts";

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
    const spec = envSpec(envId);
    if (!spec.expert) throw new ScdError(`env "${envId}" has no scripted expert; built-in policies for it: random${envId.startsWith("pusht") ? ", replay" : ""}`);
    return (await spec.expert())();
  }
  throw new ScdError(`unknown policy "${name}"; built-in: expert, random (or a checkpoint directory)`);
}
