/**
 * A plain step loop for collection and rendering with H = 1 policies (the RxJS control loop in src/loop serves
 * chunked policies, deadlines and real time). Records what it executed as an episode.
 */
import type { Env, RgbFrame, Info } from "../envs/types.ts";
import type { ChunkPolicy } from "../policies/types.ts";
import type { Episode } from "../datasets/episodes.ts";

export interface RolloutResult {
  episode: Episode;
  steps: number;
  success: boolean;
  maxReward: number;
  sumReward: number;
  frames: RgbFrame[];
  lastInfo: Info;
}

export async function rollout(env: Env, policy: ChunkPolicy, seed: number, opts: { render?: boolean; maxSteps?: number } = {}): Promise<RolloutResult> {
  let { obs, info } = env.reset({ seed });
  policy.reset(seed);
  const keys = Object.keys(env.observationSpace);
  const rec: Record<string, number[]> = Object.fromEntries([...keys, "action"].map((k) => [k, []]));
  const frames: RgbFrame[] = opts.render ? [env.render()] : [];
  let prev: Float32Array | null = null, steps = 0, maxReward = 0, sumReward = 0, success = false;
  const limit = opts.maxSteps ?? env.metadata.maxEpisodeSteps ?? 1000;
  while (steps < limit) {
    policy.observe({ obs, prevAction: prev });
    const action = (await policy.sampleChunk({ seed: seed * 100003 + steps })).slice(0, policy.actionDim);
    for (const k of keys) rec[k].push(...obs[k]);
    rec.action.push(...action);
    const r = env.step(action);
    steps++;
    maxReward = Math.max(maxReward, r.reward);
    sumReward += r.reward;
    obs = r.obs;
    info = r.info;
    prev = action;
    if (opts.render) frames.push(env.render());
    if (r.terminated) success = true;
    if (r.terminated || r.truncated) break;
  }
  const episode: Episode = Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, Float32Array.from(v)]));
  return { episode, steps, success: success || !!info.isSuccess, maxReward, sumReward, frames, lastInfo: info };
}
