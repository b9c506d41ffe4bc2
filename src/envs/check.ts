/** checkEnv (Gymnasium's env checker): the contract every registered env must meet. Throws on the first breach. */
import type { Env } from "./types.ts";
import { boxDim } from "./types.ts";

function fail(env: Env, msg: string): never {
  throw new Error(`checkEnv(${env.id}): ${msg}`);
}

function checkObs(env: Env, obs: unknown, where: string): void {
  if (!obs || typeof obs !== "object") fail(env, `${where}: observation is not an object`);
  const o = obs as Record<string, unknown>;
  for (const [name, space] of Object.entries(env.observationSpace)) {
    const v = o[name];
    if (!(v instanceof Float32Array)) fail(env, `${where}: observation "${name}" is not a Float32Array`);
    if (v.length !== boxDim(space)) fail(env, `${where}: observation "${name}" has ${v.length} values, space says ${boxDim(space)}`);
    for (const x of v) if (!Number.isFinite(x)) fail(env, `${where}: observation "${name}" has a non-finite value`);
  }
  for (const k of Object.keys(o)) if (!env.observationSpace[k]) fail(env, `${where}: observation "${k}" is not in the observation space`);
}

/**
 * Gymnasium's env checker: versioned id, action space bounds, observations matching the observation space and
 * finite, the same seed giving the same reset, and `opts.steps` random steps (default 20) from `opts.seed`.
 * @throws Error naming the env and the first breach.
 */
export function checkEnv(env: Env, opts: { steps?: number; seed?: number } = {}): void {
  const seed = opts.seed ?? 0;
  const steps = opts.steps ?? 20;
  if (!/-v\d+$/.test(env.id)) fail(env, "id must be versioned (name-vN)");
  const A = boxDim(env.actionSpace);
  if (env.actionSpace.low.length !== A || env.actionSpace.high.length !== A) fail(env, "action space bounds do not match its shape");
  const a = env.reset({ seed });
  checkObs(env, a.obs, "reset");
  const b = env.reset({ seed });
  for (const k of Object.keys(a.obs)) if (a.obs[k].some((x, i) => x !== b.obs[k][i])) fail(env, `reset with the same seed gave different "${k}"`);
  if (a.obs === b.obs || Object.keys(a.obs).some((k) => a.obs[k] === b.obs[k])) fail(env, "reset reused an observation object");
  // Gymnasium's seeding contract: reset({seed}) re-seeds the env's own generator and reset() continues it, so a
  // seeded reset followed by unseeded ones is reproducible, and the unseeded ones are new draws
  const flat = (o: Record<string, Float32Array>) => Object.keys(o).sort().flatMap((k) => Array.from(o[k]));
  const chain = () => [flat(env.reset({ seed }).obs), flat(env.reset().obs), flat(env.reset().obs)].map((v) => v.join(","));
  const c1 = chain(), c2 = chain();
  if (c1.some((v, i) => v !== c2[i])) fail(env, "reset({seed}) then reset(), reset() is not reproducible (the env must own its generator)");
  if (c1[1] === c1[0] && c1[2] === c1[0]) fail(env, "reset() after reset({seed}) repeats the seeded state instead of continuing the generator");
  // deterministic rollout from the same seed with the same actions
  const act = (t: number) => env.actionSpace.low.map((lo, i) => lo + ((t * 7 + i * 3) % 10 / 10) * (env.actionSpace.high[i] - lo));
  const roll = () => {
    env.reset({ seed });
    const out: number[] = [];
    let prev: unknown = null;
    for (let t = 0; t < steps; t++) {
      const r = env.step(act(t));
      checkObs(env, r.obs, `step ${t}`);
      if (r.obs === prev) fail(env, "step reused the observation object");
      prev = r.obs;
      if (typeof r.reward !== "number" || !Number.isFinite(r.reward)) fail(env, `step ${t}: reward ${r.reward} is not a finite number`);
      if (typeof r.terminated !== "boolean" || typeof r.truncated !== "boolean") fail(env, `step ${t}: terminated/truncated must be booleans`);
      if (!r.info || typeof r.info !== "object") fail(env, `step ${t}: info must be an object`);
      out.push(r.reward, ...Object.values(r.obs).flatMap((v) => Array.from(v)));
      if (r.terminated || r.truncated) break;
    }
    return out;
  };
  const r1 = roll(), r2 = roll();
  if (r1.length !== r2.length || r1.some((x, i) => x !== r2[i])) fail(env, "same seed and actions gave different rollouts");
  env.reset({ seed });
  for (const bad of [new Array(A + 1).fill(0), new Array(A).fill(NaN)]) {
    let threw = false;
    try {
      env.step(bad);
    } catch {
      threw = true;
    }
    if (!threw) fail(env, `step([${bad}]) should throw a clear error`);
  }
  const f = env.render();
  if (!(f.data instanceof Uint8ClampedArray) || f.data.length !== f.width * f.height * 3) fail(env, "render() must return an RGB frame of width*height*3 bytes");
}
