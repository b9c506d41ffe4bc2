/** Demonstration data for tests: real expert rollouts, written as the native dataset format. */
import "../src/envs/index.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { builtinPolicy } from "../src/policies/builtin.ts";
import { rollout } from "../src/eval/rollout.ts";
import { DatasetWriter } from "../src/datasets/native.ts";

/** `n` episodes of reach-obstacle-v1's scripted expert (seeds 0 … n−1, both sides of the obstacle) into `file` (.scdd). */
export async function writeReachDemos(file: string, n: number): Promise<void> {
  const env = await makeEnv("reach-obstacle-v1");
  const expert = await builtinPolicy("expert", "reach-obstacle-v1", env.actionSpace);
  const w = new DatasetWriter(file, { "observation.state": { shape: [2] }, action: { shape: [2] } });
  for (let s = 0; s < n; s++) w.appendEpisode((await rollout(env, expert, s)).episode);
  w.finalize();
}
