/**
 * The frames of a Diffusion Policy image array (data/img, [steps, H, W, C]) read chunk by chunk: a frame asked for
 * decompresses its Zarr chunk (161 frames in the Push-T store, stored as float32 0..255), converts the chunk to
 * bytes and caches every frame of it, so neighbouring frames and a sequential import cost one read per chunk.
 */
import * as zarr from "zarrita";
import { ScdError } from "../../errors.ts";
import { CachedFrames, DEFAULT_CACHE_BYTES } from "../frames.ts";
import { rowMajor } from "./strided.ts";

type ZArray = zarr.Array<zarr.DataType, zarr.Readable>;

export class ZarrFrames extends CachedFrames {
  readonly chunkLen: number;
  constructor(readonly store: string, readonly array: string, private readonly arr: ZArray, cacheBytes = DEFAULT_CACHE_BYTES) {
    super(`${store}: ${array}`, arr.shape.slice(1), arr.shape[0], Math.max(cacheBytes, 2 * arr.chunks[0] * arr.shape.slice(1).reduce((a, b) => a * b, 1)));
    this.chunkLen = arr.chunks[0];
  }

  protected async fetch(steps: number[]): Promise<void> {
    const fb = this.frameBytes, L = this.chunkLen;
    for (const c of [...new Set(steps.map((s) => Math.floor(s / L)))]) {
      const from = c * L, to = Math.min(this.length, from + L);
      let raw: ArrayLike<number>;
      try {
        const got = await zarr.get(this.arr, [zarr.slice(from, to), ...this.shape.map(() => null)]);
        raw = rowMajor(got as { data: unknown; shape: number[]; stride: number[] }, this.where) as ArrayLike<number>;
      } catch (e) {
        if (e instanceof ScdError) throw e;
        throw new ScdError(`${this.where}: cannot read frames ${from}..${to - 1} (${(e as Error).message})`, "corrupt-file");
      }
      const bytes = toUint8(raw, `${this.where}: frames ${from}..${to - 1}`);
      for (let t = from; t < to; t++) this.cache.put(t, bytes.slice((t - from) * fb, (t - from + 1) * fb));
    }
  }
}

/** Images are stored as float 0..255 in Diffusion Policy's Push-T store; keep them as bytes (4x smaller). */
export function toUint8(raw: ArrayLike<number>, where: string): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (!(v >= 0 && v <= 255) || v !== Math.round(v)) throw new ScdError(`${where}: image value ${v} at index ${i} is not an integer in [0, 255]`);
    out[i] = v;
  }
  return out;
}
