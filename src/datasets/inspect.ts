/**
 * Dataset summaries for `scd dataset inspect`: episodes, steps, and per-dimension stats of every feature. Image
 * features (uint8 [H, W, C]) are summarised per channel from a sample of frames spread evenly over the dataset,
 * fetched through their frame source, so a summary never loads every frame.
 */
import { type EpisodeBuffer, featureDim } from "./episodes.ts";
import { computeStats, ChannelStats, type FeatureStats } from "./normalizer.ts";
import { ArrayFrames, evenSteps, isImageFeature, readFrames, type FrameSource } from "./frames.ts";

export interface DatasetSummary {
  episodes: number;
  steps: number;
  episodeLength: { min: number; median: number; max: number };
  /** Images carry `sampledFrames`: their stats are per channel (last axis) over that many frames. */
  features: Record<string, { shape: number[]; dtype: string; sampledFrames?: number } & FeatureStats>;
}

/** Frames an image feature's statistics are computed from (evenly spaced steps). */
export const SUMMARY_FRAMES = 1000;

/** Summarise a buffer; image features from `sampleFrames` frames each (others: every value, per dimension). */
export async function summarize(buf: EpisodeBuffer, sampleFrames = SUMMARY_FRAMES): Promise<DatasetSummary> {
  const lens = Array.from(buf.episodeEnds, (e, k) => e - (k ? buf.episodeEnds[k - 1] : 0)).sort((a, b) => a - b);
  const features: DatasetSummary["features"] = {};
  const steps = buf.episodeEnds.at(-1) ?? 0;
  for (const [name, spec] of Object.entries(buf.schema)) {
    const dim = featureDim(spec), dtype = spec.dtype ?? "float32";
    if (isImageFeature(spec)) {
      const src = buf.frames?.[name] ?? new ArrayFrames(buf.data[name] as Uint8Array, spec.shape, name);
      const at = evenSteps(steps, sampleFrames);
      features[name] = { shape: spec.shape, dtype, sampledFrames: at.length, ...(await imageStats(src, at)).result(`feature "${name}"`) };
    } else {
      const statDim = dim > 64 ? spec.shape.at(-1)! : dim;
      features[name] = { shape: spec.shape, dtype, ...computeStats(buf.data[name], statDim) };
    }
  }
  return {
    episodes: buf.episodeEnds.length,
    steps,
    episodeLength: { min: lens[0] ?? 0, median: lens[lens.length >> 1] ?? 0, max: lens.at(-1) ?? 0 },
    features,
  };
}

/** Per-channel statistics (pixel units) of the frames `steps` of a source, read 64 frames at a time. */
export async function imageStats(src: FrameSource, steps: readonly number[]): Promise<ChannelStats> {
  const acc = new ChannelStats(src.shape[2]);
  for (let i = 0; i < steps.length; i += 64) acc.add(await readFrames(src, steps.slice(i, i + 64)));
  return acc;
}

const f = (x: number): string => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(3));

export function formatSummary(path: string, kind: string, s: DatasetSummary): string {
  const lines = [`${path} (${kind}): ${s.episodes} episodes, ${s.steps} steps; episode length min ${s.episodeLength.min} / median ${s.episodeLength.median} / max ${s.episodeLength.max}`];
  for (const [name, st] of Object.entries(s.features)) {
    const note = st.sampledFrames !== undefined ? `  (image: stats per channel from ${st.sampledFrames} frames)` : st.min.length !== st.shape.reduce((a, b) => a * b, 1) ? "  (stats per channel)" : "";
    lines.push(`  ${name}  shape [${st.shape}] ${st.dtype}${note}`);
    lines.push(`    ${(st.sampledFrames !== undefined ? "ch" : "dim").padStart(4)} ${"min".padStart(11)} ${"max".padStart(11)} ${"mean".padStart(11)} ${"std".padStart(11)}`);
    st.min.forEach((_, j) => lines.push(`    ${String(j).padStart(4)} ${f(st.min[j]).padStart(11)} ${f(st.max[j]).padStart(11)} ${f(st.mean[j]).padStart(11)} ${f(st.std[j]).padStart(11)}`));
  }
  return lines.join("\n");
}
