/** Feed one finished episode (executed steps + loop events, on the virtual clock) to a log recorder. */
import type { LogRecorder } from "../datasets/formats.ts";
import type { EpisodeResult } from "../loop/runner.ts";

const NOT_OBS = new Set(["action", "timestamp", "action_is_fallback"]);

/**
 * Ticks and events go out in time order at `baseMs + t` (t: the episode's virtual ms), so consecutive episodes
 * follow each other on the log's time axis. Returns the base for the next episode.
 */
export function logEpisode(log: LogRecorder, baseMs: number, periodMs: number, episode: number, r: EpisodeResult): number {
  const ep = r.episode, ts = ep.timestamp, fb = ep.action_is_fallback, A = ep.action.length / Math.max(1, r.steps);
  const obsNames = Object.keys(ep).filter((k) => !NOT_OBS.has(k));
  const events = r.events.filter((e) => e.type !== "action").sort((a, b) => a.t - b.t);
  let j = 0, last = 0;
  for (let i = 0; i < r.steps; i++) {
    for (; j < events.length && events[j].t <= ts[i]; j++) log.event(baseMs + events[j].t, episode, events[j]);
    const obs = Object.fromEntries(obsNames.map((k) => { const d = ep[k].length / r.steps; return [k, ep[k].subarray(i * d, (i + 1) * d) as Float32Array]; }));
    log.tick(baseMs + ts[i], episode, i, obs, ep.action.subarray(i * A, (i + 1) * A), fb[i] > 0);
    last = ts[i];
  }
  for (; j < events.length; j++) log.event(baseMs + events[j].t, episode, events[j]), (last = Math.max(last, events[j].t));
  return baseMs + last + periodMs;
}
