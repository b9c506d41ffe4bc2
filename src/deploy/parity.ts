/**
 * Runtime parity (browser-safe): two runtimes of one checkpoint (tfjs, ONNX Runtime in Node or in a page) must give
 * the same chunk for the same observation history and noise. Used by test/onnx.test.ts and the page's check.
 */
import type { Obs } from "../envs/types.ts";
import type { NormalizedChunkPolicy } from "../policies/normalized.ts";
import { Rng } from "../util/rng.ts";

/**
 * Roll `a` and `b` through the same `frames` observations — `obs(t, executed)` gives frame t, where `executed` is the
 * action `a` chose at frame t − 1 (null at t = 0), so a simulator can be stepped with it — sampling a chunk at every
 * frame with `steps` denoising steps and the same noise (seed 100 + t). Returns the largest |Δ| between the two
 * normalized chunks [H·A] over all frames.
 * @throws Error when the two chunks differ in length.
 */
export function chunkParity(a: NormalizedChunkPolicy, b: NormalizedChunkPolicy, frames: number, steps: number, obs: (t: number, executed: Float32Array | null) => Obs): number {
  a.reset(0);
  b.reset(0);
  let worst = 0, prev: Float32Array | null = null;
  for (let t = 0; t < frames; t++) {
    const o = obs(t, prev);
    a.observe({ obs: o, prevAction: prev });
    b.observe({ obs: o, prevAction: prev });
    const ca = a.sampleNormalized(steps, new Rng(100 + t)), cb = b.sampleNormalized(steps, new Rng(100 + t));
    if (ca.length !== cb.length) throw new Error(`chunk lengths differ: ${a.name} ${ca.length}, ${b.name} ${cb.length}`);
    for (let i = 0; i < ca.length; i++) worst = Math.max(worst, Math.abs(ca[i] - cb[i]));
    // the executed action feeds the next frame, as in the loop
    prev = a.sampleChunk({ seed: t }).slice(0, a.actionDim);
  }
  return worst;
}
