/**
 * Write any episode buffer as a LeRobot v3.0 dataset directory: `data/chunk-NNN/file-NNN.parquet` (features plus
 * timestamp, frame_index, episode_index, index, task_index), `meta/info.json`, `meta/stats.json` (min, max,
 * mean, std, count), `meta/episodes/chunk-000/file-000.parquet` and `meta/tasks.parquet`. Built in
 * a temp folder beside `<out>` and renamed into place (writeDirAtomic). Episodes never straddle two data files (as in lerobot).
 * Image features (uint8 [H, W, 3]) become video features: H.264 MP4 files under `videos/` (video-write.ts), with
 * the episodes' `videos/<key>/…` columns and lerobot's `video.*` info; they need the optional @napi-rs/webcodecs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { WriteOptions } from "../formats.ts";
import { type EpisodeBuffer, featureDim } from "../episodes.ts";
import { computeStats } from "../normalizer.ts";
import { isImageFeature } from "../frames.ts";
import { VIDEO_PATH, writeVideoFeature, type FileSpan, type WrittenVideo } from "./video-write.ts";
import { CODEBASE_VERSION, DATA_PATH, EPISODES_PATH, INDEX_COLUMNS, TASKS_PATH, INFO_PATH, STATS_PATH, formatTemplate } from "./info.ts";
import { RESERVED_PREFIX } from "./read.ts";
import { writeDirAtomic } from "../../util/outputs.ts";
import { ScdError } from "../../errors.ts";

export interface LeRobotWriteOptions extends WriteOptions {
  /** Files per chunk directory (lerobot's chunks_size, default 1000). */
  chunksSize?: number;
}

type Leaf = "FLOAT" | "DOUBLE" | "INT64" | "INT32" | "BYTE_ARRAY";
type Element = { name: string; type?: Leaf; repetition_type: "REQUIRED" | "REPEATED"; converted_type?: "LIST" | "UTF8" | "UINT_8"; num_children?: number };
type Column = { name: string; data: unknown[] | Float32Array | Float64Array | BigInt64Array; schema: Element[] };

/** A column of `shape` per row: a plain leaf for [1], nested 3-level LISTs (list/element, as pyarrow writes) otherwise. */
function column(name: string, shape: number[], leaf: Element, rows: (r: number) => number | number[], n: number, scalar?: Float32Array | BigInt64Array): Column {
  if (shape.length === 1 && shape[0] === 1) return { name, data: scalar ?? Array.from({ length: n }, (_, r) => rows(r)), schema: [{ ...leaf, name }] };
  const schema: Element[] = [];
  shape.forEach((_, d) => schema.push({ name: d ? "element" : name, repetition_type: "REQUIRED", converted_type: "LIST", num_children: 1 }, { name: "list", repetition_type: "REPEATED", num_children: 1 }));
  schema.push({ ...leaf, name: "element" });
  const nest = (flat: number[], dims: number[]): unknown[] => {
    if (dims.length === 1) return flat;
    const step = flat.length / dims[0];
    return Array.from({ length: dims[0] }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), dims.slice(1)));
  };
  return { name, data: Array.from({ length: n }, (_, r) => nest(rows(r) as number[], shape)), schema };
}

function writeParquet(file: string, cols: Column[], kv: { key: string; value: string }[] = []): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const buf = parquetWriteBuffer({
    columnData: cols.map((c) => ({ name: c.name, data: c.data as never })),
    schema: [{ name: "schema", num_children: cols.length }, ...cols.flatMap((c) => c.schema)] as never,
    kvMetadata: kv,
  });
  fs.writeFileSync(file, new Uint8Array(buf));
}

/** Nested arrays of `shape` from a flat per-dimension vector (stats.json keeps feature shapes). */
const shaped = (v: number[], shape: number[]): unknown => (shape.length <= 1 ? v : Array.from({ length: shape[0] }, (_, i) => shaped(v.slice(i * (v.length / shape[0]), (i + 1) * (v.length / shape[0])), shape.slice(1))));

/**
 * Write `buf` as a LeRobot v3.0 dataset at `out` (a directory; replaced if it exists).
 * @param opts fps (default 10), task (one task for every episode), maxFramesPerFile (split data files), chunksSize.
 */
export async function writeLeRobot(out: string, buf: EpisodeBuffer, opts: LeRobotWriteOptions = {}): Promise<void> {
  const fps = opts.fps ?? 10, task = opts.task ?? "default task", chunksSize = opts.chunksSize ?? 1000;
  const maxFrames = opts.maxFramesPerFile ?? Infinity;
  if (!(maxFrames >= 1)) throw new ScdError(`${out}: maxFramesPerFile must be ≥ 1, got ${maxFrames}`);
  const spans = fileSpans(buf.episodeEnds, maxFrames, chunksSize);
  const images = Object.keys(buf.schema).filter((n) => isImageFeature(buf.schema[n]));
  // videos are encoded (asynchronously) into a staging folder first, then moved into the atomically written directory
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const staging = images.length ? fs.mkdtempSync(path.join(path.dirname(path.resolve(out)), `.${path.basename(out)}.videos-`)) : null;
  try {
    const videos: Record<string, WrittenVideo> = {};
    for (const key of images) videos[key] = await writeVideoFeature(staging!, buf, key, spans, { fps, onProgress: opts.onProgress });
    writeDirAtomic(out, (tmp) => {
      fillLeRobot(tmp, buf, { fps, task, chunksSize, spans, videos, onProgress: opts.onProgress });
      if (staging) fs.renameSync(path.join(staging, "videos"), path.join(tmp, "videos"));
    });
  } finally {
    if (staging) fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Consecutive episodes per file, up to `maxFrames` frames each (at least one episode per file), `chunksSize` files per chunk. */
function fileSpans(ends: Int32Array, maxFrames: number, chunksSize: number): (FileSpan & { from: number; to: number })[] {
  const files: { from: number; to: number; epFrom: number; epTo: number }[] = [];
  for (let k = 0; k < ends.length; k++) {
    const s = k ? ends[k - 1] : 0, last = files.at(-1);
    if (last && ends[k] - last.from <= maxFrames) (last.to = ends[k]), (last.epTo = k + 1);
    else files.push({ from: s, to: ends[k], epFrom: k, epTo: k + 1 });
  }
  return files.map((f, i) => ({ ...f, chunk: Math.floor(i / chunksSize), file: i % chunksSize }));
}

type FillOptions = { fps: number; task: string; chunksSize: number; spans: ReturnType<typeof fileSpans>; videos: Record<string, WrittenVideo>; onProgress?: (line: string) => void };

function fillLeRobot(tmp: string, buf: EpisodeBuffer, opts: FillOptions): void {
  const { fps, task, chunksSize, spans: files, videos } = opts;
  const ends = Array.from(buf.episodeEnds), total = ends.at(-1) ?? 0;
  // our features under LeRobot's reserved column names move aside, so nothing collides and the round trip is exact;
  // image features are videos, not columns
  const names = Object.keys(buf.schema).filter((n) => !videos[n]).map((n) => [n, (INDEX_COLUMNS as readonly string[]).includes(n) ? RESERVED_PREFIX + n : n] as const);
  const epFile: { chunk: number; file: number }[] = [];
  files.forEach((f) => {
    const { chunk, file } = f, n = f.to - f.from;
    opts.onProgress?.(`writing ${formatTemplate(DATA_PATH, { chunk_index: chunk, file_index: file })} (${n} frames)`);
    const epOf = new BigInt64Array(n), frameOf = new BigInt64Array(n), ts = new Float32Array(n);
    for (let k = f.epFrom; k < f.epTo; k++) {
      epFile[k] = { chunk, file };
      const s = k ? ends[k - 1] : 0;
      for (let i = s; i < ends[k]; i++) (epOf[i - f.from] = BigInt(k)), (frameOf[i - f.from] = BigInt(i - s)), (ts[i - f.from] = (i - s) / fps);
    }
    const cols: Column[] = names.map(([key, col]) => {
      const spec = buf.schema[key], d = featureDim(spec), arr = buf.data[key];
      const leaf: Element = spec.dtype === "uint8" ? { name: "", type: "INT32", converted_type: "UINT_8", repetition_type: "REQUIRED" } : { name: "", type: "FLOAT", repetition_type: "REQUIRED" };
      const scalar = d === 1 && spec.dtype !== "uint8" ? (arr as Float32Array).slice(f.from, f.to) : undefined;
      return column(col, spec.shape, leaf, (r) => (d === 1 ? arr[f.from + r] : Array.from(arr.subarray((f.from + r) * d, (f.from + r + 1) * d))), n, scalar);
    });
    const int64 = (name: string, data: BigInt64Array): Column => ({ name, data, schema: [{ name, type: "INT64", repetition_type: "REQUIRED" }] });
    cols.push({ name: "timestamp", data: ts, schema: [{ name: "timestamp", type: "FLOAT", repetition_type: "REQUIRED" }] });
    cols.push(int64("frame_index", frameOf), int64("episode_index", epOf));
    cols.push(int64("index", BigInt64Array.from({ length: n }, (_, r) => BigInt(f.from + r))), int64("task_index", new BigInt64Array(n)));
    writeParquet(path.join(tmp, formatTemplate(DATA_PATH, { chunk_index: chunk, file_index: file })), cols);
  });
  // episodes metadata: one row per episode, where its frames live
  const E = ends.length, i64 = (f: (k: number) => number) => BigInt64Array.from({ length: E }, (_, k) => BigInt(f(k)));
  const ep = (name: string, f: (k: number) => number): Column => ({ name, data: i64(f), schema: [{ name, type: "INT64", repetition_type: "REQUIRED" }] });
  writeParquet(path.join(tmp, formatTemplate(EPISODES_PATH, { chunk_index: 0, file_index: 0 })), [
    ep("episode_index", (k) => k),
    { name: "tasks", data: Array.from({ length: E }, () => [task]), schema: [{ name: "tasks", repetition_type: "REQUIRED", converted_type: "LIST", num_children: 1 }, { name: "list", repetition_type: "REPEATED", num_children: 1 }, { name: "element", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" }] },
    ep("length", (k) => ends[k] - (k ? ends[k - 1] : 0)),
    ep("data/chunk_index", (k) => epFile[k].chunk),
    ep("data/file_index", (k) => epFile[k].file),
    ep("dataset_from_index", (k) => (k ? ends[k - 1] : 0)),
    ep("dataset_to_index", (k) => ends[k]),
    ep("meta/episodes/chunk_index", () => 0),
    ep("meta/episodes/file_index", () => 0),
    ...Object.entries(videos).flatMap(([key, v]) => {
      const f64 = (name: string, f: (k: number) => number): Column => ({ name, data: Float64Array.from({ length: E }, (_, k) => f(k)), schema: [{ name, type: "DOUBLE", repetition_type: "REQUIRED" }] });
      return [ep(`videos/${key}/chunk_index`, (k) => v.episodes[k].chunk), ep(`videos/${key}/file_index`, (k) => v.episodes[k].file), f64(`videos/${key}/from_timestamp`, (k) => v.episodes[k].from), f64(`videos/${key}/to_timestamp`, (k) => v.episodes[k].to)];
    }),
  ]);
  // tasks: pandas reads the "task" column back as the index (lerobot looks tasks up by their text)
  const pandas = { index_columns: ["task"], column_indexes: [], columns: [{ name: "task_index", field_name: "task_index", pandas_type: "int64", numpy_type: "int64", metadata: null }, { name: "task", field_name: "task", pandas_type: "unicode", numpy_type: "object", metadata: null }], creator: { library: "scd-policy" } };
  writeParquet(path.join(tmp, TASKS_PATH), [
    { name: "task_index", data: new BigInt64Array([0n]), schema: [{ name: "task_index", type: "INT64", repetition_type: "REQUIRED" }] },
    { name: "task", data: [task], schema: [{ name: "task", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" }] },
  ], [{ key: "pandas", value: JSON.stringify(pandas) }]);
  const features: Record<string, unknown> = {};
  const stats: Record<string, unknown> = {};
  for (const [key, col] of names) {
    const spec = buf.schema[key];
    features[col] = { dtype: spec.dtype ?? "float32", shape: spec.shape, names: null };
    const s = computeStats(buf.data[key], featureDim(spec));
    stats[col] = { min: shaped(s.min, spec.shape), max: shaped(s.max, spec.shape), mean: shaped(s.mean, spec.shape), std: shaped(s.std, spec.shape), count: [total] };
  }
  for (const [key, v] of Object.entries(videos)) {
    features[key] = { dtype: "video", shape: buf.schema[key].shape, names: ["height", "width", "channels"], info: v.info };
    stats[key] = v.stats;
  }
  Object.assign(features, { timestamp: { dtype: "float32", shape: [1], names: null }, frame_index: { dtype: "int64", shape: [1], names: null }, episode_index: { dtype: "int64", shape: [1], names: null }, index: { dtype: "int64", shape: [1], names: null }, task_index: { dtype: "int64", shape: [1], names: null } });
  const info = {
    codebase_version: CODEBASE_VERSION, robot_type: null, total_episodes: E, total_frames: total, total_tasks: 1,
    chunks_size: chunksSize, data_files_size_in_mb: 100, video_files_size_in_mb: 200, fps,
    splits: { train: `0:${E}` }, data_path: DATA_PATH, video_path: Object.keys(videos).length ? VIDEO_PATH : null, features,
  };
  fs.writeFileSync(path.join(tmp, INFO_PATH), JSON.stringify(info, null, 4) + "\n");
  fs.writeFileSync(path.join(tmp, STATS_PATH), JSON.stringify(stats, null, 4) + "\n");
}
