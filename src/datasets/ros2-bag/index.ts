/**
 * ROS bags as a dataset format ("ros2-bag"): reads ROS 2 bags (MCAP, `ros2` profile, CDR; a rosbag2 directory; a
 * folder of bags) and ROS 1 ones (MCAP `ros1` profile, `.bag`) into episodes by a topic map (resample.ts); writes a
 * dataset as a rosbag2 directory (metadata.yaml + one .mcap); and records loop logs as a ROS 2 bag (recorder.ts,
 * `--record out.mcap --profile ros2`). Without a map, a bag scd wrote reads back by the topic map stored in it,
 * or by scd's own layout (/observation/<feature>, /action, /scd/episode).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { DatasetFormat, ReadOptions, ReadResult, WriteOptions } from "../formats.ts";
import { type EpisodeBuffer, type Episode, concatEpisodes, featureDim } from "../episodes.ts";
import { ScdError } from "../../errors.ts";
import { writeDirAtomic } from "../../util/outputs.ts";
import { openRecordings, recognizesBag, type Recording } from "./source.ts";
import { resampleRecording, type BagMap } from "./resample.ts";
import { Ros2BagRecorder } from "./recorder.ts";

export type { BagMap } from "./resample.ts";

/** Reading options of this format: the topic map to import by (and its file name, for errors). */
export interface BagReadOptions extends ReadOptions {
  map?: BagMap;
  mapName?: string;
}

/** The map a bag scd wrote carries (its "scd" metadata), else scd's own layout, else null. */
function defaultMap(rec: Recording): { map: BagMap; name: string; rateHz?: number } | null {
  const md = rec.metadata.scd ?? {};
  const period = Number(md.period_ms);
  const rateHz = period > 0 ? 1000 / period : undefined;
  const maxAgeMs = period > 0 ? period * 1.5 : 150;
  const marker = rec.topics.has("/scd/episode") ? { episodes: { topic: "/scd/episode" } } : {};
  if (md.topic_map) {
    const m = JSON.parse(md.topic_map) as BagMap;
    return { map: { ...m, maxAgeMs, maxArrayLength: m.maxArrayLength ?? 1024, ...marker }, name: "the topic map stored in the bag", rateHz };
  }
  const obs = [...rec.topics.keys()].filter((t) => t.startsWith("/observation/")).sort();
  if (!obs.length || !rec.topics.has("/action")) return null;
  const names = rec.metadata.scd_topics ?? {}; // topic → feature, where the feature's name is not a ROS name
  return {
    map: { observations: obs.map((t) => ({ feature: names[t] ?? t.slice("/observation/".length), topic: t, fields: [{ path: "data" }] })), action: { topic: "/action", fields: [{ path: "data" }] }, maxAgeMs, maxArrayLength: 1 << 20, ...marker },
    name: "scd's bag layout",
    rateHz,
  };
}

/**
 * Read every recording at `p` into episodes by `opts.map` (or the default map of a bag scd wrote).
 * @throws ScdError naming the bag for a missing, truncated or undecodable bag, a mapped topic it lacks (listing its
 * topics), a bag with no map to read it by, or one that yields no episode.
 */
async function readBags(p: string, opts: BagReadOptions): Promise<ReadResult> {
  const recs = await openRecordings(p);
  const episodes: Episode[] = [];
  const notes: string[] = [];
  let rate: number | undefined, malformed = 0;
  for (const rec of recs) {
    const d = opts.map ? { map: opts.map, name: opts.mapName ?? "the topic map", rateHz: undefined } : defaultMap(rec);
    if (!d) throw new ScdError(`${rec.files.join(", ")}: a ROS bag needs a topic map to become a dataset (--map map.json: observation topics/fields and the action topic); its topics: ${[...rec.topics.values()].map((t) => `${t.topic} (${t.type})`).join(", ")}`, "bad-value");
    const hz = d.map.rateHz ?? d.rateHz ?? 10;
    if (rate !== undefined && Math.abs(hz - rate) > 1e-9) throw new ScdError(`${rec.name}: recorded at ${hz} Hz, the bags before it at ${rate} Hz; import them separately or give the map a rateHz`);
    rate = hz;
    const r = await resampleRecording(rec, d.map, d.name, hz);

    episodes.push(...r.episodes);
    notes.push(`${rec.name} (${rec.files.length} file${rec.files.length > 1 ? "s" : ""}): ${r.episodes.length} episode(s) at ${hz} Hz`, ...r.notes);
    malformed += r.malformed;
  }
  if (!episodes.length) throw new ScdError(`${p}: no episode with every mapped topic fresh${notes.length ? ` (${notes.slice(0, 3).join("; ")})` : ""}`, "bad-value");
  for (const n of notes) opts.onProgress?.(n);
  const schema = Object.fromEntries(Object.entries(episodes[0]).map(([k, v]) => [k, { shape: [v.length / episodes[0].timestamp.length] }]));
  for (const [k, ep] of episodes.entries())
    for (const [f, s] of Object.entries(schema))
      if (ep[f].length !== s.shape[0] * ep.timestamp.length) throw new ScdError(`${p}: feature "${f}" has ${ep[f].length / ep.timestamp.length} values in episode ${k}, ${s.shape[0]} in episode 0 (map its array fields with a "length")`);
  const buffer = concatEpisodes(schema, episodes);
  const env = recs.map((r) => r.metadata.scd?.env).find((e) => e);
  return { buffer, meta: { fps: rate, source: "ros-bag", bags: recs.map((r) => r.name), ...(env ? { env } : {}), ...(malformed ? { malformed } : {}), ...(notes.length ? { notes } : {}) } };
}

const NOT_OBS = new Set(["action", "timestamp", "action_is_fallback"]);

/** A dataset as a rosbag2 directory: metadata.yaml + <dir name>_0.mcap, in scd's bag layout (recorder.ts), episodes in turn. */
async function writeBagDir(dir: string, buf: EpisodeBuffer, opts: WriteOptions): Promise<void> {
  const fps = opts.fps ?? 10, period = 1000 / fps;
  const staging = path.join(path.dirname(path.resolve(dir)), `.${path.basename(dir)}.bag-${process.pid}.mcap`);
  const actionDim = buf.schema.action ? featureDim(buf.schema.action) : 0;
  const rec = await Ros2BagRecorder.open(staging, { periodMs: period, actionDim, meta: { ...(opts.meta ?? {}), fps } });
  const obsNames = Object.keys(buf.schema).filter((n) => !NOT_OBS.has(n) && buf.schema[n].dtype !== "uint8");
  const ts = buf.data.timestamp, fb = buf.data.action_is_fallback;
  let base = Date.now(), t = base;
  for (let k = 0, s = 0; k < buf.episodeEnds.length; s = buf.episodeEnds[k++]) {
    for (let i = s; i < buf.episodeEnds[k]; i++) {
      t = base + (ts ? ts[i] - ts[s] : (i - s) * period);
      const obs = Object.fromEntries(obsNames.map((n) => { const d = featureDim(buf.schema[n]); return [n, buf.data[n].subarray(i * d, (i + 1) * d) as Float32Array]; }));
      rec.tick(t, k, i - s, obs, buf.data.action ? buf.data.action.subarray(i * actionDim, (i + 1) * actionDim) : new Float32Array(0), !!fb && fb[i] > 0);
    }
    base = t + period;
  }
  await rec.close();
  const yaml = rec.metadataYaml(`${path.basename(dir)}_0.mcap`);
  try {
    writeDirAtomic(dir, (tmp) => {
      fs.renameSync(staging, path.join(tmp, `${path.basename(dir)}_0.mcap`));
      fs.writeFileSync(path.join(tmp, "metadata.yaml"), yaml);
    });
  } finally {
    fs.rmSync(staging, { force: true });
  }
}

export const ros2Bag: DatasetFormat = {
  id: "ros2-bag",
  description: "ROS 2 bag (MCAP storage, CDR messages; also ROS 1 MCAP and .bag), read by a topic map",
  expects: "a .mcap with the ros2 or ros1 profile, a ROS 1 .bag, a rosbag2 directory with metadata.yaml, or a folder of them",
  recognizes: recognizesBag,
  read: (p, opts) => readBags(p, opts as BagReadOptions),
  write: writeBagDir,
  writes: "dir",
  isOwnOutput: (p) => fs.existsSync(path.join(p, "metadata.yaml")) && /rosbag2_bagfile_information/.test(fs.readFileSync(path.join(p, "metadata.yaml"), "utf8")),
  recorder: (file, info) => Ros2BagRecorder.open(file, info),
};
