/**
 * MCAP (Foxglove's log format) as a dataset format: live loop logs (`--record out.mcap` on eval and run) and
 * `scd dataset export --format mcap` of any dataset: per step the observation features and the action, stamped
 * with the dataset's timestamps when it has them (ms, as `scd eval --record` writes) or step / fps.
 */
import type { DatasetFormat, WriteOptions } from "../formats.ts";
import { type EpisodeBuffer, featureDim } from "../episodes.ts";
import { McapLog } from "./log.ts";

/** Not observations: what the loop did and when. */
const NOT_OBS = new Set(["action", "timestamp", "action_is_fallback"]);

async function writeMcap(file: string, buf: EpisodeBuffer, opts: WriteOptions): Promise<void> {
  const fps = opts.fps ?? 10, period = 1000 / fps;
  const actionDim = buf.schema.action ? featureDim(buf.schema.action) : 0;
  const log = await McapLog.open(file, { periodMs: period, actionDim, meta: { ...opts.meta, fps } });
  const obsNames = Object.keys(buf.schema).filter((n) => !NOT_OBS.has(n) && buf.data[n]); // image frames held by a source are not logged
  const ts = buf.data.timestamp, fb = buf.data.action_is_fallback;
  let base = 0; // episodes follow each other on the log's time axis
  for (let k = 0, s = 0; k < buf.episodeEnds.length; s = buf.episodeEnds[k++]) {
    const t0 = ts ? ts[s] : 0;
    let t = base;
    for (let i = s; i < buf.episodeEnds[k]; i++) {
      t = base + (ts ? ts[i] - t0 : (i - s) * period);
      const obs = Object.fromEntries(obsNames.map((n) => { const d = featureDim(buf.schema[n]); return [n, buf.data[n].subarray(i * d, (i + 1) * d) as Float32Array]; }));
      const action = buf.data.action ? buf.data.action.subarray(i * actionDim, (i + 1) * actionDim) : new Float32Array(0);
      log.tick(t, k, i - s, obs, action, !!fb && fb[i] > 0);
    }
    base = t + period;
  }
  await log.close();
}

export const mcap: DatasetFormat = {
  id: "mcap",
  description: "MCAP log for Foxglove (JSON messages with JSON schemas)",
  extensions: [".mcap"],
  write: writeMcap,
  recorder: (file, info) => McapLog.open(file, info),
};
