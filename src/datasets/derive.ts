/** Features some envs observe but datasets store inside another one (e.g. agent x, y = state[0:2]). */
import { ScdError } from "../errors.ts";
import type { EpisodeBuffer } from "./episodes.ts";

const DERIVED: Record<string, { from: string; start: number; len: number }> = {
  "observation.agent_pos": { from: "observation.state", start: 0, len: 2 },
};

/**
 * The buffer with the `wanted` features, derived ones added. Image features held by a frame source that are not
 * wanted are left out, so what follows (copying the training episodes) never reads their frames.
 */
export function withFeatures(buf: EpisodeBuffer, wanted: readonly string[]): EpisodeBuffer {
  const out: EpisodeBuffer = { schema: { ...buf.schema }, data: { ...buf.data }, episodeEnds: buf.episodeEnds };
  for (const [name, src] of Object.entries(buf.frames ?? {}))
    if (wanted.includes(name)) (out.frames ??= {})[name] = src;
    else delete out.schema[name];
  for (const name of wanted) {
    if (out.schema[name]) continue;
    const d = DERIVED[name];
    const src = d && buf.data[d.from];
    if (!d || !src) throw new ScdError(`the dataset has no feature "${name}" (it has: ${Object.keys(buf.schema).join(", ")})`);
    const srcDim = buf.schema[d.from].shape.reduce((a, b) => a * b, 1);
    const n = src.length / srcDim;
    const arr = new Float32Array(n * d.len);
    for (let i = 0; i < n; i++) for (let j = 0; j < d.len; j++) arr[i * d.len + j] = src[i * srcDim + d.start + j];
    out.schema[name] = { shape: [d.len] };
    out.data[name] = arr;
  }
  return out;
}
