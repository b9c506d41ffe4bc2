/** Frames to files: PNG through @napi-rs/canvas, animated GIF through gifenc. Writes are atomic. */
import { createCanvas } from "@napi-rs/canvas";
import { createRequire } from "node:module";
import type { RgbFrame } from "../spaces.ts";
import { writeFileAtomic } from "./fsx.ts";

export function toRgba(f: RgbFrame): Uint8ClampedArray {
  const out = new Uint8ClampedArray(f.width * f.height * 4);
  for (let i = 0, j = 0; j < f.data.length; i += 4, j += 3) {
    out[i] = f.data[j];
    out[i + 1] = f.data[j + 1];
    out[i + 2] = f.data[j + 2];
    out[i + 3] = 255;
  }
  return out;
}

export function encodePng(f: RgbFrame): Uint8Array {
  const c = createCanvas(f.width, f.height);
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(f.width, f.height);
  img.data.set(toRgba(f));
  ctx.putImageData(img, 0, 0);
  return c.toBuffer("image/png");
}

export function writePng(path: string, f: RgbFrame): void {
  writeFileAtomic(path, encodePng(f));
}

/**
 * Animated GIF of frames at `fps`. One palette keeps it small (scenes have few colours); it is taken from the first,
 * middle and last frames, since colours can appear after the first (Push-T's red target cross comes with the first action).
 */
export function writeGif(path: string, frames: RgbFrame[], fps = 10): void {
  if (!frames.length) throw new Error(`writeGif(${path}): no frames`);
  // gifenc is CommonJS with a default-less ESM shape that differs between loaders: require it
  const { GIFEncoder, quantize, applyPalette } = createRequire(import.meta.url)("gifenc") as typeof import("gifenc");
  const gif = GIFEncoder();
  const sample = [...new Set([0, frames.length >> 1, frames.length - 1])].map((i) => toRgba(frames[i]));
  const all = new Uint8Array(sample.reduce((n, a) => n + a.length, 0));
  sample.reduce((o, a) => (all.set(a, o), o + a.length), 0);
  const palette = quantize(all, 64);
  for (const f of frames) gif.writeFrame(applyPalette(toRgba(f), palette), f.width, f.height, { palette, delay: Math.round(1000 / fps) });
  gif.finish();
  writeFileAtomic(path, gif.bytes());
}
