/**
 * Write an image feature as LeRobot video files: H.264 (High profile, yuv420p) in MP4, one file per data file's
 * episodes, frame n of a file at n / fps seconds, a keyframe every `gop` frames (lerobot's default GOP is 2: cheap
 * random access when training decodes frames). What lerobot accepts: its `VALID_VIDEO_CODECS` are h264, hevc and
 * AV1 (libsvtav1 / libaom-av1; its default), any `pix_fmt` FFmpeg knows (yuv420p by default); its readers
 * (torchcodec, pyav) decode H.264 MP4, and so does every browser. `meta/info.json` gets lerobot's `video.*`
 * fields (height, width, codec "h264", pix_fmt "yuv420p", fps, channels, g) with `has_audio` and `is_depth_map`.
 *
 * Round trip (tolerance): 4:2:0 chroma subsampling and the quantizer cost some precision. Real Push-T 96 × 96
 * renders come back with a mean absolute error of 0.44 per value (0..255; tolerance ≤ 1), 97 % of values within ±2
 * and 99.3 % within ±16 (tolerance ≥ 99 %); the largest errors (131; tolerance ≤ 160) sit on sharp colour edges,
 * where 2 × 2 pixels share one chroma sample. test/lerobot-video.test.ts measures it on 579 real frames.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ScdError } from "../../errors.ts";
import type { EpisodeBuffer } from "../episodes.ts";
import { ArrayFrames } from "../frames.ts";
import { ChannelStats } from "../normalizer.ts";
import { loadCodecs } from "./codecs.ts";
import { formatTemplate } from "./info.ts";

/** lerobot's default video path template. */
export const VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4";

/** Consecutive episodes stored in one file (data and video alike). */
export interface FileSpan {
  chunk: number;
  file: number;
  epFrom: number;
  epTo: number;
}

export interface VideoWriteOptions {
  fps: number;
  /** Keyframe interval in frames (default 2, lerobot's). */
  gop?: number;
  /** Target bit rate (bits/s); default 2 bits per pixel per second, at least 500 kb/s. */
  bitrate?: number;
  onProgress?: (line: string) => void;
}

/** What the dataset's metadata needs of the written videos. */
export interface WrittenVideo {
  /** Per episode: the file it is in and its time range in that file (seconds). */
  episodes: { chunk: number; file: number; from: number; to: number }[];
  /** The feature's `info` in meta/info.json. */
  info: Record<string, unknown>;
  /** Per-channel stats in [0, 1] over every frame, shaped [C, 1, 1] as lerobot's stats.json. */
  stats: Record<string, unknown>;
}

/**
 * Encode image feature `key` of `buf` (in memory or a frame source) into `<dir>/videos/<key>/chunk-NNN/file-NNN.mp4`,
 * one episode's frames in memory at a time. @throws ScdError when the codecs are absent or the shape cannot be encoded
 */
export async function writeVideoFeature(dir: string, buf: EpisodeBuffer, key: string, spans: FileSpan[], opts: VideoWriteOptions): Promise<WrittenVideo> {
  const spec = buf.schema[key], [H, W, C] = spec.shape, fps = opts.fps, gop = opts.gop ?? 2;
  if (C !== 3) throw new ScdError(`feature "${key}": shape [${spec.shape}] has ${C} channels; videos are written from RGB frames [height, width, 3]`);
  if (H % 2 || W % 2) throw new ScdError(`feature "${key}": frames of ${W} × ${H} (width × height) cannot be H.264 yuv420p; width and height must be even`);
  const codecs = await loadCodecs(`writing image feature "${key}" as video`);
  const src = buf.frames?.[key] ?? new ArrayFrames(buf.data[key] as Uint8Array, spec.shape, key);
  const ends = buf.episodeEnds, stats = new ChannelStats(C), episodes: WrittenVideo["episodes"] = [];
  const frameUs = 1e6 / fps, rgba = new Uint8Array(W * H * 4).fill(255);
  for (const span of spans) {
    const rel = formatTemplate(VIDEO_PATH.replaceAll("{video_key}", key), { chunk_index: span.chunk, file_index: span.file });
    opts.onProgress?.(`encoding ${rel} (episodes ${span.epFrom}..${span.epTo - 1})`);
    const muxer = new codecs.Mp4Muxer({ fastStart: false });
    let track = false, err: unknown = null, n = 0;
    const enc = new codecs.VideoEncoder({
      output: (chunk, meta) => {
        if (!track) muxer.addVideoTrack({ codec: meta?.decoderConfig?.codec ?? "avc1.640028", width: W, height: H, framerate: fps, description: meta?.decoderConfig?.description as Uint8Array | undefined });
        track = true;
        muxer.addVideoChunk(chunk, meta as never);
      },
      error: (e) => (err ??= e),
    });
    try {
      enc.configure({ codec: "avc1.640028", width: W, height: H, framerate: fps, bitrate: opts.bitrate ?? Math.max(500_000, 2 * W * H * fps), latencyMode: "quality" });
      for (let k = span.epFrom; k < span.epTo; k++) {
        const s = k ? ends[k - 1] : 0, steps = Array.from({ length: ends[k] - s }, (_, i) => s + i);
        episodes[k] = { chunk: span.chunk, file: span.file, from: n / fps, to: (n + steps.length) / fps };
        await src.load(steps);
        try {
          for (const t of steps) {
            const rgb = src.frame(t);
            stats.add(rgb);
            for (let p = 0, q = 0; p < rgb.length; p += 3, q += 4) (rgba[q] = rgb[p]), (rgba[q + 1] = rgb[p + 1]), (rgba[q + 2] = rgb[p + 2]);
            const vf = new codecs.VideoFrame(rgba, { format: "RGBA", codedWidth: W, codedHeight: H, timestamp: Math.round(n * frameUs), duration: Math.round(frameUs) });
            enc.encode(vf, { keyFrame: n % gop === 0 });
            vf.close();
            n++;
            while (enc.encodeQueueSize > 16 && !err) await new Promise((r) => setTimeout(r, 1)); // bounded frames in flight
          }
        } finally {
          src.release(steps);
        }
        if (err) break;
      }
      await enc.flush();
      if (err) throw err;
      const bytes = muxer.finalize();
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), bytes);
    } catch (e) {
      if (e instanceof ScdError) throw e;
      throw new ScdError(`${rel}: cannot encode feature "${key}" as H.264 (${(e as Error).message ?? e})`, "run-failed");
    } finally {
      if (enc.state !== "closed") enc.close();
      muxer.close();
    }
  }
  const s = stats.result(`feature "${key}"`), nest = (v: number[]) => v.map((x) => [[x / 255]]);
  const info = {
    "video.height": H, "video.width": W, "video.codec": "h264", "video.pix_fmt": "yuv420p", "video.fps": fps,
    "video.channels": C, "video.g": gop, has_audio: false, is_depth_map: false,
  };
  return { episodes, info, stats: { min: nest(s.min), max: nest(s.max), mean: nest(s.mean), std: nest(s.std), count: [ends.at(-1) ?? 0] } };
}
