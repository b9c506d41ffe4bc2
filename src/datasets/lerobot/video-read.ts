/**
 * Open the video features of a LeRobot v3.0 dataset as frame sources. Where each episode's frames are comes from
 * `meta/episodes/*.parquet` (`videos/<key>/chunk_index`, `file_index`, `from_timestamp`, `to_timestamp`) and
 * `meta/info.json`'s `video_path` template ("videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4");
 * a step asks for the frame at `from_timestamp + timestamp` of its episode, as lerobot's reader does.
 *
 * Every file is probed when the dataset is opened, so bad input fails at once with one ScdError naming the file,
 * the feature and the value: a missing or truncated file, a codec the decoder lacks, frames whose size disagrees
 * with the feature's shape in meta/info.json, an episode whose time range lies beyond the video.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ScdError } from "../../errors.ts";
import type { FrameSource } from "../frames.ts";
import { loadCodecs, type Codecs } from "./codecs.ts";
import { EPISODES_PATH, filesOf, formatTemplate, type FeatureInfo, type Info } from "./info.ts";
import { readParquet } from "./read.ts";
import { VideoFrames, type VideoFileRef, type VideoFramesOptions } from "./video-frames.ts";

/** The episodes' video columns lerobot writes for feature `key`. */
export const videoColumns = (key: string): string[] => ["chunk_index", "file_index", "from_timestamp", "to_timestamp"].map((c) => `videos/${key}/${c}`);

/**
 * A frame source per video feature. `timestampsS` is the frames' `timestamp` column (null: frame_index / fps).
 * @throws ScdError for a dataset whose videos cannot be read as meta/info.json says (see the file comment).
 */
export async function openVideoFeatures(root: string, info: Info, keys: [string, FeatureInfo][], ends: Int32Array, timestampsS: ArrayLike<number> | null, opts: VideoFramesOptions = {}): Promise<Record<string, FrameSource>> {
  const infoFile = path.join(root, "meta/info.json");
  const template = (info as { video_path?: unknown }).video_path;
  if (typeof template !== "string" || !template) throw new ScdError(`${infoFile}: feature "${keys[0][0]}" has dtype "video" but video_path is ${JSON.stringify(template ?? null)} (expected a template like "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4")`);
  const codecs = await loadCodecs(`reading video feature "${keys[0][0]}" of ${root}`);
  const rows = await episodeVideoRows(root, keys.map(([k]) => k), ends.length);
  const steps = ends.at(-1) ?? 0, out: Record<string, FrameSource> = {};
  for (const [key, f] of keys) {
    if (f.shape.length !== 3 || f.shape[2] !== 3) throw new ScdError(`${infoFile}: video feature "${key}" has shape [${f.shape}]; decoded here are RGB videos of shape [height, width, 3]`);
    const files: { path: string; steps: number[] }[] = [], byPath = new Map<string, number>();
    const fileOf = new Int32Array(steps), tsUs = new Float64Array(steps);
    for (let k = 0; k < ends.length; k++) {
      const r = rows[k], col = (c: string) => Number(r[`videos/${key}/${c}`] as number | bigint);
      const p = path.join(root, formatTemplate(template.replaceAll("{video_key}", key), { chunk_index: col("chunk_index"), file_index: col("file_index") }));
      if (!byPath.has(p)) byPath.set(p, files.push({ path: p, steps: [] }) - 1);
      const s = k ? ends[k - 1] : 0, from = col("from_timestamp"), fi = byPath.get(p)!;
      for (let t = s; t < ends[k]; t++) (fileOf[t] = fi), (tsUs[t] = (from + (timestampsS ? timestampsS[t] : (t - s) / info.fps)) * 1e6), files[fi].steps.push(t);
    }
    const refs: VideoFileRef[] = files.map((x) => ({ path: x.path, steps: Int32Array.from(x.steps).sort((a, b) => tsUs[a] - tsUs[b]) }));
    const src = new VideoFrames(root, key, f.shape, codecs, refs, fileOf, tsUs, ends, opts);
    for (const ref of refs) await probeVideo(codecs, ref, src, f);
    out[key] = src;
  }
  return out;
}

/** One row per episode (in order) with the video columns of every key. @throws ScdError naming the file and the missing column */
async function episodeVideoRows(root: string, keys: string[], episodes: number): Promise<Record<string, unknown>[]> {
  const files = filesOf(root, EPISODES_PATH);
  if (!files.length) throw new ScdError(`${path.join(root, "meta/episodes")}: missing (a LeRobot v3.0 dataset with videos lists each episode's video file and time range there)`);
  const rows: Record<string, unknown>[] = [];
  for (const file of files) rows.push(...(await readParquet(file, ["episode_index", ...keys.flatMap(videoColumns)])).rows);
  if (rows.length !== episodes) throw new ScdError(`${path.join(root, "meta/episodes")}: lists ${rows.length} episodes but the data files hold ${episodes}`);
  return rows;
}

/** Open `ref`'s file as the decoder would and check it against meta/info.json and the times asked of it. */
async function probeVideo(codecs: Codecs, ref: VideoFileRef, src: VideoFrames, f: FeatureInfo): Promise<void> {
  const file = ref.path, key = src.feature, declared = (f.info as Record<string, unknown> | undefined)?.["video.codec"];
  if (!fs.existsSync(file)) throw new ScdError(`${file}: missing: the video of feature "${key}" for ${src.describe(ref.steps[0])} and ${ref.steps.length - 1} more frames`, "missing-file");
  const dem = new codecs.Mp4Demuxer({ error: () => undefined });
  try {
    try {
      await dem.load(file);
    } catch (e) {
      throw new ScdError(`${file}: feature "${key}": not a readable MP4, truncated or corrupt (${(e as Error).message}; ${fs.statSync(file).size} bytes)`, "corrupt-file");
    }
    const cfg = dem.videoDecoderConfig, track = dem.tracks.find((t) => t.trackType === "video");
    if (!cfg || !track) throw new ScdError(`${file}: feature "${key}": the MP4 has no video track`, "corrupt-file");
    let ok = false;
    try {
      ok = cfg.codedWidth > 0 && cfg.codec !== "none" && !!(await codecs.VideoDecoder.isConfigSupported(cfg as never)).supported;
    } catch {
      ok = false;
    }
    if (!ok)
      throw new ScdError(`${file}: feature "${key}": codec "${cfg.codec}"${declared ? ` (meta/info.json: video.codec "${declared}")` : ""} is not one the decoder has; @napi-rs/webcodecs decodes h264 (avc1), hevc (hvc1/hev1), vp9 (vp09) and av1 (av01)`, "incompatible");
    const [H, W] = f.shape;
    if (cfg.codedWidth !== W || cfg.codedHeight !== H)
      throw new ScdError(`${file}: feature "${key}" has ${cfg.codedWidth} × ${cfg.codedHeight} frames (width × height), but meta/info.json declares shape [${f.shape}] (height, width, channels)`);
    const last = ref.steps[ref.steps.length - 1], durUs = dem.duration ?? track.duration ?? Infinity;
    if (src.tsUs[last] > durUs + 100)
      throw new ScdError(`${file}: feature "${key}" ${src.describe(last)} lies beyond the end of the video (${durUs / 1e6} s); meta/episodes' from_timestamp / to_timestamp do not match this file`);
  } finally {
    dem.close();
  }
}
