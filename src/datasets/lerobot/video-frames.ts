/**
 * The frames of one LeRobot video feature, decoded on demand. A step's frame is the one at
 * `from_timestamp + timestamp` of its episode in the episode's MP4 file (lerobot's own query), found within a
 * tolerance (lerobot's `tolerance_s`, 1e-4 s). Decoding works a group of pictures (GOP) at a time: the packets
 * from the keyframe at or before the asked time up to the next keyframe are decoded and flushed, and every frame
 * of the GOP that some step asks for goes into the LRU cache (default 256 MiB: 9,709 Push-T frames), so the
 * neighbours a training window wants next are already there. Each file's packets (compressed, small) are demuxed
 * once and kept for the few files in use.
 */
import type * as WC from "@napi-rs/webcodecs";
import { ScdError } from "../../errors.ts";
import { CachedFrames } from "../frames.ts";
import type { Codecs } from "./codecs.ts";

/** Default cache bound of a video feature: 256 MiB of decoded RGB frames. */
export const VIDEO_CACHE_BYTES = 256 * 2 ** 20;
/** lerobot's default tolerance between a frame's timestamp and the time asked for. */
export const TOLERANCE_S = 1e-4;
/** Most packets decoded between two flushes (consecutive GOPs asked for at once). */
const RUN_PACKETS = 64;

/** One MP4 file of a video feature and the steps it holds, sorted by the time they ask for. */
export interface VideoFileRef {
  path: string;
  steps: Int32Array;
}

interface FileIndex {
  packets: WC.EncodedVideoChunk[];
  keyAt: number[]; // packet index of each keyframe (decode order)
  keyPts: number[]; // its timestamp (µs)
  lastPts: number;
  config: WC.VideoDecoderConfig;
  decoder: WC.VideoDecoder | null;
  out: WC.VideoFrame[];
  err: unknown;
}

export interface VideoFramesOptions {
  cacheBytes?: number;
  toleranceS?: number;
  /** Files whose demuxed packets are kept (least recently used dropped). */
  maxOpenFiles?: number;
}

export class VideoFrames extends CachedFrames {
  private readonly open = new Map<number, FileIndex>();
  private readonly tolUs: number;
  private readonly maxOpen: number;
  /** Decoded frames (a measure of decode work; the cache's hits and misses say how much it saved). */
  decoded = 0;

  constructor(
    readonly root: string, readonly feature: string, shape: readonly number[], private readonly codecs: Codecs,
    readonly files: VideoFileRef[], readonly fileOf: Int32Array, readonly tsUs: Float64Array, private readonly episodeEnds: Int32Array,
    opts: VideoFramesOptions = {},
  ) {
    super(`${root}: video feature "${feature}"`, shape, fileOf.length, opts.cacheBytes ?? VIDEO_CACHE_BYTES);
    this.tolUs = (opts.toleranceS ?? TOLERANCE_S) * 1e6;
    this.maxOpen = opts.maxOpenFiles ?? 4;
  }

  /** "episode 3 frame 17 (t = 12.3 s)": where a step is, for errors. */
  describe(step: number): string {
    let k = 0;
    while (this.episodeEnds[k] <= step) k++;
    return `episode ${k} frame ${step - (k ? this.episodeEnds[k - 1] : 0)} (t = ${+(this.tsUs[step] / 1e6).toFixed(6)} s)`;
  }

  protected async fetch(steps: number[]): Promise<void> {
    const byFile = new Map<number, number[]>();
    for (const s of steps) byFile.set(this.fileOf[s], [...(byFile.get(this.fileOf[s]) ?? []), s]);
    for (const [f, want] of byFile) {
      const ix = await this.index(f), path = this.files[f].path;
      const gops = new Set<number>();
      for (const s of want) {
        const q = this.tsUs[s];
        if (q < ix.keyPts[0] - this.tolUs || q > ix.lastPts + this.tolUs)
          throw new ScdError(`${path}: feature "${this.feature}" ${this.describe(s)} lies outside the video's frames (${ix.keyPts[0] / 1e6} … ${ix.lastPts / 1e6} s)`);
        let lo = 0, hi = ix.keyPts.length - 1; // last keyframe at or before q
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (ix.keyPts[mid] <= q + this.tolUs) lo = mid;
          else hi = mid - 1;
        }
        if (!this.cache.has(s)) gops.add(lo);
      }
      // consecutive GOPs decode in one pass (one flush), up to RUN_PACKETS packets
      const sorted = [...gops].sort((a, b) => a - b);
      for (let i = 0; i < sorted.length; ) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1 && (ix.keyAt[sorted[j + 1] + 1] ?? ix.packets.length) - ix.keyAt[sorted[i]] <= RUN_PACKETS) j++;
        await this.decodeGops(f, ix, sorted[i], sorted[j]);
        i = j + 1;
      }
      for (const s of want)
        if (!this.cache.has(s)) throw new ScdError(`${path}: feature "${this.feature}" has no frame within ±${this.tolUs / 1e6} s of ${this.describe(s)}`);
    }
  }

  /** Decode GOPs `g0`..`g1` of file `f` and cache every frame a step of that file asks for. */
  private async decodeGops(f: number, ix: FileIndex, g0: number, g1: number): Promise<void> {
    const path = this.files[f].path, from = ix.keyAt[g0], to = ix.keyAt[g1 + 1] ?? ix.packets.length, g = g0;
    if (!ix.decoder || ix.decoder.state === "closed") ix.decoder = this.decoder(ix);
    ix.out = [];
    ix.err = null;
    try {
      for (let i = from; i < to; i++) ix.decoder.decode(ix.packets[i]);
      await ix.decoder.flush();
    } catch (e) {
      ix.err ??= e;
    }
    const frames = ix.out;
    try {
      if (ix.err) throw new ScdError(`${path}: cannot decode feature "${this.feature}" (packets ${from}..${to - 1} from t = ${ix.keyPts[g] / 1e6} s): ${(ix.err as Error).message ?? ix.err}`, "corrupt-file");
      const [H, W] = this.shape, steps = this.files[f].steps;
      for (const fr of frames) {
        this.decoded++;
        if (fr.displayWidth !== W || fr.displayHeight !== H)
          throw new ScdError(`${path}: feature "${this.feature}" decodes to ${fr.displayWidth} × ${fr.displayHeight} frames (width × height), but meta/info.json declares shape [${this.shape}] (height, width, channels)`);
        let lo = 0, hi = steps.length; // first step asking at or after pts − tolerance
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (this.tsUs[steps[mid]] < fr.timestamp - this.tolUs) lo = mid + 1;
          else hi = mid;
        }
        let rgb: Uint8Array | null = null;
        for (let i = lo; i < steps.length && this.tsUs[steps[i]] <= fr.timestamp + this.tolUs; i++) {
          rgb ??= await toRgb(fr, W, H);
          this.cache.put(steps[i], rgb);
        }
      }
    } finally {
      for (const fr of frames) fr.close();
    }
  }

  private decoder(ix: FileIndex): WC.VideoDecoder {
    const d = new this.codecs.VideoDecoder({ output: (fr) => ix.out.push(fr), error: (e) => (ix.err ??= e) });
    d.configure(ix.config);
    return d;
  }

  /** File `f`'s packets and keyframes, demuxed once (the least recently used file is dropped past `maxOpenFiles`). */
  private async index(f: number): Promise<FileIndex> {
    const have = this.open.get(f);
    if (have) {
      this.open.delete(f);
      this.open.set(f, have);
      return have;
    }
    const path = this.files[f].path, packets: WC.EncodedVideoChunk[] = [];
    let err: unknown = null, config: WC.VideoDecoderConfig | null = null;
    const dem = new this.codecs.Mp4Demuxer({ videoOutput: (c) => packets.push(c), error: (e) => (err ??= e) });
    try {
      await dem.load(path);
      config = dem.videoDecoderConfig as WC.VideoDecoderConfig | null;
      await dem.demuxAsync();
    } catch (e) {
      err ??= e;
    } finally {
      dem.close();
    }
    if (err || !config || !packets.length || packets[0].type !== "key")
      throw new ScdError(`${path}: feature "${this.feature}": cannot read the video's packets, truncated or corrupt (${err ? (err as Error).message : !config ? "no video track" : packets.length ? "it does not start with a keyframe" : "no packets"})`, "corrupt-file");
    const ix: FileIndex = { packets, keyAt: [], keyPts: [], lastPts: -Infinity, config, decoder: null, out: [], err: null };
    packets.forEach((p, i) => {
      if (p.type === "key") ix.keyAt.push(i), ix.keyPts.push(p.timestamp);
      ix.lastPts = Math.max(ix.lastPts, p.timestamp);
    });
    this.open.set(f, ix);
    for (const [k, old] of this.open) {
      if (this.open.size <= this.maxOpen) break;
      if (old.decoder?.state !== "closed") old.decoder?.close();
      this.open.delete(k);
    }
    return ix;
  }

  override close(): void {
    for (const ix of this.open.values()) if (ix.decoder && ix.decoder.state !== "closed") ix.decoder.close();
    this.open.clear();
  }
}

/** A decoded frame as packed RGB bytes (H·W·3), through the decoder's own conversion to RGBA. */
async function toRgb(fr: WC.VideoFrame, W: number, H: number): Promise<Uint8Array> {
  const n = fr.allocationSize({ format: "RGBA" });
  if (n !== W * H * 4) throw new Error(`an RGBA copy of the decoded frame takes ${n} bytes, not ${W} × ${H} × 4`);
  const rgba = new Uint8Array(W * H * 4);
  await fr.copyTo(rgba, { format: "RGBA" });
  const rgb = new Uint8Array(W * H * 3);
  for (let p = 0, q = 0; p < rgb.length; p += 3, q += 4) (rgb[p] = rgba[q]), (rgb[p + 1] = rgba[q + 1]), (rgb[p + 2] = rgba[q + 2]);
  return rgb;
}
