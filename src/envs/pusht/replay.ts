/**
 * Open-loop replay of recorded Push-T demonstrations: reset to each episode's first recorded state (exact
 * setter), apply its actions, and compare the block with the recording. Also checks that our legacy reset of
 * seed k reproduces demonstration k's first state.
 */
import type { EpisodeBuffer } from "../../datasets/episodes.ts";
import { ScdError } from "../../errors.ts";
import { PushTEnv, SUCCESS_COVERAGE } from "./pusht.ts";
import { coverage } from "./geometry.ts";

export interface EpisodeReplay {
  episode: number;
  steps: number;
  endPositionErrorPx: number; // block position error at the last recorded state
  endAngleErrorRad: number;
  finalCoverage: number; // after the final action
  resetMatches: boolean;
}

export interface ReplayReport {
  episodes: number;
  steps: number;
  positionErrorPx: { median: number; p90: number }; // over all recorded steps
  angleErrorRad: { median: number; p90: number };
  endPositionErrorPx: { median: number; p90: number };
  endAngleErrorRad: { median: number; p90: number };
  successAgreement: number; // fraction of replays with coverage > 0.95 after the final action
  recordedFinalCoverage: { median: number; p90: number }; // coverage of the dataset's own last recorded state
  finalCoverage: { median: number; p10: number };
  resetMatches: number;
  perEpisode: EpisodeReplay[];
}

const angDiff = (a: number, b: number): number => Math.abs(Math.atan2(Math.sin(a - b), Math.cos(a - b)));
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.round(q * (s.length - 1)))] : NaN;
}

export function replayPushT(buf: EpisodeBuffer, opts: { episodes?: number[]; onEpisode?: (k: number) => void } = {}): ReplayReport {
  const st = buf.data["observation.state"], act = buf.data["action"];
  if (!st || !act) throw new ScdError(`replay needs features "observation.state" [5] and "action" [2]; the dataset has ${Object.keys(buf.schema).join(", ")}`);
  const env = new PushTEnv({ obsMode: "state" });
  const posErr: number[] = [], angErr: number[] = [];
  const per: EpisodeReplay[] = [];
  const recordedFinal: number[] = [];
  const list = opts.episodes ?? [...Array(buf.episodeEnds.length).keys()];
  for (const k of list) {
    const s = k ? buf.episodeEnds[k - 1] : 0, e = buf.episodeEnds[k];
    const first = Array.from(st.subarray(s * 5, s * 5 + 5));
    recordedFinal.push(coverage(st[(e - 1) * 5 + 2], st[(e - 1) * 5 + 3], st[(e - 1) * 5 + 4]));
    env.reset({ seed: k });
    const drawn = env.getState();
    const resetMatches = drawn.every((v, i) => (i === 4 ? angDiff(v, first[i]) : Math.abs(v - first[i])) < 1e-3);
    env.setState(first, "exact");
    let endPos = 0, endAng = 0, cov = 0;
    for (let t = s; t < e; t++) {
      const r = env.step([act[2 * t], act[2 * t + 1]]);
      cov = r.info.coverage as number;
      if (t + 1 < e) {
        const g = env.getState();
        endPos = Math.hypot(g[2] - st[(t + 1) * 5 + 2], g[3] - st[(t + 1) * 5 + 3]);
        endAng = angDiff(g[4], st[(t + 1) * 5 + 4]);
        posErr.push(endPos);
        angErr.push(endAng);
      }
    }
    per.push({ episode: k, steps: e - s, endPositionErrorPx: endPos, endAngleErrorRad: endAng, finalCoverage: cov, resetMatches });
    opts.onEpisode?.(k);
  }
  const q = (xs: number[]) => ({ median: quantile(xs, 0.5), p90: quantile(xs, 0.9) });
  return {
    episodes: per.length,
    steps: per.reduce((a, p) => a + p.steps, 0),
    positionErrorPx: q(posErr),
    angleErrorRad: q(angErr),
    endPositionErrorPx: q(per.map((p) => p.endPositionErrorPx)),
    endAngleErrorRad: q(per.map((p) => p.endAngleErrorRad)),
    successAgreement: per.filter((p) => p.finalCoverage > SUCCESS_COVERAGE).length / Math.max(1, per.length),
    recordedFinalCoverage: q(recordedFinal),
    finalCoverage: { median: quantile(per.map((p) => p.finalCoverage), 0.5), p10: quantile(per.map((p) => p.finalCoverage), 0.1) },
    resetMatches: per.filter((p) => p.resetMatches).length,
    perEpisode: per,
  };
}
