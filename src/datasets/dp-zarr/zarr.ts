/**
 * Import of Diffusion Policy replay buffers (Zarr v2 directory: data/<array>, meta/episode_ends) into the
 * trajectory data model. Known Push-T arrays get LeRobot-style names; other arrays keep their own.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";
import { ScdError } from "../../errors.ts";
import { rowMajor } from "./strided.ts";
import { ZarrFrames, toUint8 } from "./frames.ts";
import type { ReadOptions } from "../formats.ts";
import type { FrameSource } from "../frames.ts";
import { type EpisodeBuffer, type FeatureArray, type Schema, validateBuffer } from "../episodes.ts";

export const DP_NAMES: Record<string, string> = {
  state: "observation.state",
  keypoint: "observation.keypoints",
  action: "action",
  img: "observation.image",
  n_contacts: "observation.n_contacts",
};

export function isZarrDir(p: string): boolean {
  // meta/episode_ends, not just meta/ + data/: a LeRobot directory has those too
  if (!fs.existsSync(p) || !fs.statSync(p).isDirectory()) return false;
  return fs.existsSync(path.join(p, ".zgroup")) || fs.existsSync(path.join(p, "meta", "episode_ends"));
}

/**
 * Read a replay buffer. Image arrays (per-step rank 3) are skipped unless `opts.images`; then they stay in the store,
 * read as uint8 frames chunk by chunk when asked ({@link ZarrFrames}), never all at once.
 * @throws ScdError naming the store and the array when an array is missing, undecodable or of another length.
 */
export async function readDpZarr(dir: string, opts: ReadOptions = {}): Promise<EpisodeBuffer> {
  if (!fs.existsSync(dir)) throw new ScdError(`${dir}: no such file or directory`, "missing-file");
  if (!isZarrDir(dir)) throw new ScdError(`${dir}: not a Diffusion Policy Zarr replay buffer (expected data/ and meta/episode_ends)`);
  const root = zarr.root(new FileSystemStore(path.resolve(dir)));
  const open = async (name: string) => {
    try {
      return await zarr.open.v2(root.resolve(name), { kind: "array" });
    } catch (e) {
      throw new ScdError(`${dir}: missing or unreadable array "${name}" (${(e as Error).message})`);
    }
  };
  const endsArr = await open("meta/episode_ends");
  const endsRaw = rowMajor(await zarr.get(endsArr), `${dir}: meta/episode_ends`) as ArrayLike<number | bigint>;
  const episodeEnds = Int32Array.from(Array.from(endsRaw, (x) => Number(x)));
  const names = fs.readdirSync(path.join(dir, "data")).filter((n) => !n.startsWith(".")).sort();
  if (!names.length) throw new ScdError(`${dir}: data/ holds no arrays`);
  const schema: Schema = {};
  const data: Record<string, FeatureArray> = {};
  const frames: Record<string, FrameSource> = {};
  for (const name of names) {
    const arr = await open(`data/${name}`);
    const isImage = arr.shape.length >= 4; // [steps, H, W, C]
    if (isImage && !opts.images) continue;
    if (arr.dtype !== "float32" && arr.dtype !== "float64" && arr.dtype !== "uint8")
      throw new ScdError(`${dir}: array data/${name} has dtype ${arr.dtype}; supported: float32, float64, uint8`);
    const feature = DP_NAMES[name] ?? name;
    const steps = arr.shape[0];
    if (steps !== episodeEnds.at(-1)) throw new ScdError(`${dir}: data/${name} has ${steps} steps but meta/episode_ends ends at ${episodeEnds.at(-1)}`);
    if (isImage && arr.shape.length === 4) {
      frames[feature] = new ZarrFrames(dir, `data/${name}`, arr, opts.frameCacheBytes);
      schema[feature] = { shape: arr.shape.slice(1), dtype: "uint8" };
      continue;
    }
    opts.onProgress?.(`reading data/${name}`);
    let values: FeatureArray;
    try {
      const raw = rowMajor(await zarr.get(arr), `${dir}: data/${name}`) as ArrayLike<number>; // F-order arrays come back column-major
      values = arr.dtype === "uint8" || isImage ? toUint8(raw, `${dir}: data/${name}`) : raw instanceof Float32Array ? raw : Float32Array.from(raw);
    } catch (e) {
      throw new ScdError(`${dir}: cannot decode data/${name} (${(e as Error).message})`);
    }
    schema[feature] = { shape: arr.shape.slice(1).length ? arr.shape.slice(1) : [1], ...(values instanceof Uint8Array ? { dtype: "uint8" as const } : {}) };
    data[feature] = values;
  }
  const buf: EpisodeBuffer = { schema, data, episodeEnds, ...(Object.keys(frames).length ? { frames } : {}) };
  validateBuffer(buf, dir);
  return buf;
}
