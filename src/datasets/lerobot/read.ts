/**
 * Read a local LeRobot v3.0 dataset directory into the trajectory data model: frames from the Parquet data files
 * (every chunk and file the `data_path` template names, in order), episodes from `episode_index`, feature names
 * and shapes from `meta/info.json`. Tabular features become float32 (bool → 0/1); the index columns are structure,
 * not features. Video features are decoded on demand when `opts.images` (uint8 [H, W, 3] frames, video-read.ts,
 * needs the optional @napi-rs/webcodecs), else listed and skipped; image (PNG) features are listed and skipped.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parquetMetadata, parquetReadObjects, parquetSchema } from "hyparquet";
import { ScdError } from "../../errors.ts";
import type { ReadOptions, ReadResult } from "../formats.ts";
import { type EpisodeBuffer, type FeatureArray, type Schema, validateBuffer } from "../episodes.ts";
import { readInfo, filesOf, INDEX_COLUMNS, EPISODES_PATH, type FeatureInfo } from "./info.ts";
import { openVideoFeatures } from "./video-read.ts";

/** Our own features whose names LeRobot reserves are stored as "scd.<name>" (see write.ts). */
export const RESERVED_PREFIX = "scd.";
const NUMERIC = new Set(["float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "bool"]);

type Row = Record<string, unknown>;

/**
 * Rows of one Parquet file: the `columns` (each must exist) plus the `optional` ones it has.
 * @throws ScdError naming the file for an unreadable, truncated or corrupt file, or a missing column.
 */
export async function readParquet(file: string, columns?: string[], optional: string[] = []): Promise<{ rows: Row[]; columns: string[] }> {
  let buf: ArrayBuffer;
  try {
    const b = fs.readFileSync(file);
    buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  } catch (e) {
    throw new ScdError(`${file}: cannot read (${(e as Error).message})`);
  }
  try {
    const md = parquetMetadata(buf);
    const have = parquetSchema(md).children.map((c) => c.element.name);
    for (const c of columns ?? []) if (!have.includes(c)) throw new ScdError(`${file}: column "${c}" is missing (the file has ${have.join(", ")})`);
    const want = columns && [...columns, ...optional.filter((c) => have.includes(c))];
    return { rows: (await parquetReadObjects({ file: buf, metadata: md, columns: want })) as Row[], columns: have };
  } catch (e) {
    if (e instanceof ScdError) throw e;
    throw new ScdError(`${file}: not a readable Parquet file, truncated or corrupt (${(e as Error).message}; ${buf.byteLength} bytes)`, "corrupt-file");
  }
}

/** Flatten one cell (a number, a bool, or nested lists) into `out` at `off`; returns the count written. */
function flattenInto(v: unknown, out: FeatureArray, off: number, limit: number): number {
  if (Array.isArray(v)) {
    let n = 0;
    for (const x of v) n += flattenInto(x, out, off + n, limit - n);
    return n;
  }
  if (v === null || v === undefined) return 0; // a missing value: the count check names the row
  if (limit > 0) out[off] = typeof v === "boolean" ? Number(v) : Number(v as number | bigint);
  return 1;
}

export async function readLeRobot(root: string, opts: ReadOptions = {}): Promise<ReadResult> {
  const info = readInfo(root);
  const features: [string, FeatureInfo][] = [];
  const skipped: string[] = [], videos: [string, FeatureInfo][] = [];
  for (const [name, f] of Object.entries(info.features)) {
    if ((INDEX_COLUMNS as readonly string[]).includes(name)) continue;
    if (f.dtype === "video" && opts.images) {
      videos.push([name, f]);
      continue;
    }
    if (!NUMERIC.has(f.dtype)) {
      skipped.push(`${name} (${f.dtype})`);
      opts.onProgress?.(`skipping ${f.dtype} feature ${name}: ${f.dtype === "video" ? "videos are decoded with --images" : "not a numeric feature"}`);
      continue;
    }
    features.push([name, f]);
  }
  const files = filesOf(root, info.data_path);
  if (!files.length) throw new ScdError(`${path.join(root, info.data_path)}: no data files match this data_path template of meta/info.json`);
  const schema: Schema = {};
  for (const [name, f] of features) schema[name.startsWith(RESERVED_PREFIX) ? name.slice(RESERVED_PREFIX.length) : name] = { shape: f.shape, ...(f.dtype === "uint8" && f.shape.length === 3 ? { dtype: "uint8" as const } : {}) };
  const parts: { values: Record<string, FeatureArray>; n: number }[] = [];
  const ends: number[] = [];
  let prevEp = -1, frame = 0, total = 0, derivedTs = true, hasAllTs = true;
  const tsKept: number[] = [];
  for (const file of files) {
    opts.onProgress?.(`reading ${path.relative(root, file)}`);
    const { rows, columns } = await readParquet(file, ["episode_index", ...features.map(([n]) => n)], ["timestamp", "frame_index"]);
    const hasTs = columns.includes("timestamp"), hasFrame = columns.includes("frame_index"), extra = rows;
    hasAllTs &&= hasTs;
    const values: Record<string, FeatureArray> = {};
    for (const [name, f] of features) {
      const dim = f.shape.reduce((a, b) => a * b, 1);
      const key = name.startsWith(RESERVED_PREFIX) ? name.slice(RESERVED_PREFIX.length) : name;
      const arr: FeatureArray = schema[key].dtype === "uint8" ? new Uint8Array(rows.length * dim) : new Float32Array(rows.length * dim);
      rows.forEach((r, i) => {
        const n = flattenInto(r[name], arr, i * dim, dim);
        if (n !== dim) throw new ScdError(`${file}: feature "${name}" row ${i} has ${n} values but meta/info.json declares shape [${f.shape}] (${dim} values)`);
      });
      values[key] = arr;
    }
    rows.forEach((r, i) => {
      const ep = Number(r.episode_index as bigint | number);
      if (ep !== prevEp) {
        if (ep !== prevEp + 1)
          throw new ScdError(`${file}: episode_index is not contiguous: row ${i} has episode ${ep} after episode ${prevEp} (episodes must be numbered 0, 1, 2, … with each episode's frames consecutive)`);
        if (prevEp >= 0) ends.push(total + i);
        prevEp = ep;
        frame = 0;
      } else frame++;
      if (hasFrame && Number(extra[i].frame_index as bigint | number) !== frame)
        throw new ScdError(`${file}: frame_index ${extra[i].frame_index} at row ${i} (episode ${ep}) should be ${frame}`);
      if (hasTs) {
        const ts = Number(extra[i].timestamp);
        tsKept.push(ts);
        if (Math.abs(ts - frame / info.fps) > 1e-4) derivedTs = false;
      }
    });
    total += rows.length;
    parts.push({ values, n: rows.length });
  }
  if (total > 0) ends.push(total);
  const data: Record<string, FeatureArray> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const n = total * spec.shape.reduce((a, b) => a * b, 1);
    const arr = spec.dtype === "uint8" ? new Uint8Array(n) : new Float32Array(n);
    let off = 0;
    for (const p of parts) arr.set(p.values[key], off), (off += p.values[key].length);
    data[key] = arr;
  }
  // a timestamp that is just frame_index / fps carries nothing; one that is not (dropped frames, a real clock) is kept
  if (!derivedTs && !schema.timestamp) (schema.timestamp = { shape: [1] }), (data.timestamp = Float32Array.from(tsKept));
  const buffer: EpisodeBuffer = { schema, data, episodeEnds: Int32Array.from(ends) };
  await checkEpisodesMeta(root, buffer.episodeEnds);
  if (videos.length) {
    buffer.frames = await openVideoFeatures(root, info, videos, buffer.episodeEnds, hasAllTs ? tsKept : null, { cacheBytes: opts.frameCacheBytes });
    for (const [name, f] of videos) schema[name] = { shape: f.shape, dtype: "uint8" };
  }
  validateBuffer(buffer, root);
  if (info.total_frames !== undefined && info.total_frames !== total) throw new ScdError(`${path.join(root, "meta/info.json")}: total_frames is ${info.total_frames} but the data files hold ${total} frames`);
  return { buffer, meta: { source: root, fps: info.fps, codebase_version: info.codebase_version, ...(skipped.length ? { skipped } : {}) } };
}

/** meta/episodes/*.parquet, when present, must agree with the frames: one row per episode, same lengths. */
async function checkEpisodesMeta(root: string, ends: Int32Array): Promise<void> {
  const files = filesOf(root, EPISODES_PATH);
  if (!files.length) return;
  let k = 0;
  for (const file of files) {
    for (const r of (await readParquet(file, ["episode_index", "length"])).rows) {
      const ep = Number(r.episode_index as bigint), len = Number(r.length as bigint);
      const want = k < ends.length ? ends[k] - (k ? ends[k - 1] : 0) : undefined;
      if (ep !== k || len !== want) throw new ScdError(`${file}: episode_index ${ep} with length ${len}, but the data files hold episode ${k} with ${want ?? "no"} frames`);
      k++;
    }
  }
  if (k !== ends.length) throw new ScdError(`${path.join(root, "meta/episodes")}: lists ${k} episodes but the data files hold ${ends.length}`);
}
