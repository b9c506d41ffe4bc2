/** Dataset summaries for `scd dataset inspect`: episodes, steps, and per-dimension stats of every feature. */
import { type EpisodeBuffer, featureDim } from "./episodes.ts";
import { computeStats, type FeatureStats } from "./normalizer.ts";

export interface DatasetSummary {
  episodes: number;
  steps: number;
  episodeLength: { min: number; median: number; max: number };
  features: Record<string, { shape: number[]; dtype: string } & FeatureStats>;
}

/** Images (dimension > 64) are summarised per channel (last axis) instead of per value. */
export function summarize(buf: EpisodeBuffer): DatasetSummary {
  const lens = Array.from(buf.episodeEnds, (e, k) => e - (k ? buf.episodeEnds[k - 1] : 0)).sort((a, b) => a - b);
  const features: DatasetSummary["features"] = {};
  for (const [name, spec] of Object.entries(buf.schema)) {
    const dim = featureDim(spec);
    const statDim = dim > 64 ? spec.shape.at(-1)! : dim;
    features[name] = { shape: spec.shape, dtype: spec.dtype ?? "float32", ...computeStats(buf.data[name], statDim) };
  }
  return {
    episodes: buf.episodeEnds.length,
    steps: buf.episodeEnds.at(-1) ?? 0,
    episodeLength: { min: lens[0] ?? 0, median: lens[lens.length >> 1] ?? 0, max: lens.at(-1) ?? 0 },
    features,
  };
}

const f = (x: number): string => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(3));

export function formatSummary(path: string, kind: string, s: DatasetSummary): string {
  const lines = [`${path} (${kind}): ${s.episodes} episodes, ${s.steps} steps; episode length min ${s.episodeLength.min} / median ${s.episodeLength.median} / max ${s.episodeLength.max}`];
  for (const [name, st] of Object.entries(s.features)) {
    lines.push(`  ${name}  shape [${st.shape}] ${st.dtype}${st.min.length !== st.shape.reduce((a, b) => a * b, 1) ? "  (stats per channel)" : ""}`);
    lines.push(`    ${"dim".padStart(4)} ${"min".padStart(11)} ${"max".padStart(11)} ${"mean".padStart(11)} ${"std".padStart(11)}`);
    st.min.forEach((_, j) => lines.push(`    ${String(j).padStart(4)} ${f(st.min[j]).padStart(11)} ${f(st.max[j]).padStart(11)} ${f(st.mean[j]).padStart(11)} ${f(st.std[j]).padStart(11)}`));
  }
  return lines.join("\n");
}
