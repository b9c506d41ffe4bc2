/**
 * Image features without the whole dataset in memory. A {@link FrameSource} hands out the frames of one uint8 image
 * feature ([steps, H, W, C], channels last) on demand — from a .scdd file's image section (native.ts), a Zarr store's
 * chunks (dp-zarr/) or a LeRobot video (lerobot/) — through an LRU cache of decoded frames bounded in bytes.
 * The window sampler (windows.ts) reads image features through it, so a training batch fetches only its frames.
 *
 * Sources that must decode asynchronously (video, Zarr) serve `frame(step)` only for steps loaded with
 * `load(steps)`; a load pins its frames in the cache until `release(steps)`, so a batch cannot be evicted while
 * it is copied. `readFrames` and `sampleWindowsAsync` pair the two for you.
 */
import { ScdError } from "../errors.ts";
import type { FeatureSpec } from "./episodes.ts";

/** An image feature: uint8 with a per-step shape [H, W, C]. Stored and fetched frame by frame. */
export const isImageFeature = (spec: FeatureSpec): boolean => spec.dtype === "uint8" && spec.shape.length === 3;

/** The frames of one image feature, fetched on demand. */
export interface FrameSource {
  /** Per-frame shape [H, W, C]. */
  readonly shape: readonly number[];
  /** Frames held (= steps of the dataset). */
  readonly length: number;
  /** The file and feature, for errors. */
  readonly where: string;
  /** Make `steps` readable by `frame()` and pin them until `release(steps)`. @throws ScdError for a step out of range or a frame that cannot be read */
  load(steps: readonly number[]): Promise<void>;
  /** Unpin steps pinned by `load`. */
  release(steps: readonly number[]): void;
  /** Frame `step`, H·W·C bytes (a view: do not modify). @throws Error when an asynchronous source has not loaded it */
  frame(step: number): Uint8Array;
  /** Close files and decoders. */
  close(): void;
}

/** Byte-bounded LRU cache of frames by step; pinned steps are never evicted (the cache may then exceed its bound). */
export class FrameCache {
  private readonly map = new Map<number, Uint8Array>();
  private readonly pins = new Map<number, number>();
  bytes = 0;
  /** Frames asked for (by a load) that were cached already. */
  hits = 0;
  /** Frames read or decoded because they were not. */
  misses = 0;
  constructor(readonly capacityBytes: number) {}

  get(step: number): Uint8Array | undefined {
    const v = this.map.get(step);
    if (v) {
      this.map.delete(step);
      this.map.set(step, v); // most recent last
    }
    return v;
  }
  has(step: number): boolean {
    return this.map.has(step);
  }
  put(step: number, frame: Uint8Array): void {
    const old = this.map.get(step);
    if (old) (this.bytes -= old.length), this.map.delete(step);
    this.map.set(step, frame);
    this.bytes += frame.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.capacityBytes) break;
      if (this.pins.has(k)) continue;
      this.map.delete(k);
      this.bytes -= v.length;
    }
  }
  pin(steps: readonly number[]): void {
    for (const s of steps) this.pins.set(s, (this.pins.get(s) ?? 0) + 1);
  }
  unpin(steps: readonly number[]): void {
    for (const s of steps) {
      const n = (this.pins.get(s) ?? 0) - 1;
      if (n > 0) this.pins.set(s, n);
      else this.pins.delete(s);
    }
  }
  get size(): number {
    return this.map.size;
  }
}

/** Default cache bound of a source (bytes): 64 MiB, 2,427 Push-T frames of 96 × 96 × 3. */
export const DEFAULT_CACHE_BYTES = 64 * 2 ** 20;

/**
 * A source whose frames are fetched (read, decompressed, decoded) into a {@link FrameCache}. Subclasses implement
 * `fetch` (put every asked step into the cache) and, when they can read synchronously, `readSync`.
 */
export abstract class CachedFrames implements FrameSource {
  readonly cache: FrameCache;
  readonly frameBytes: number;
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly where: string, readonly shape: readonly number[], readonly length: number, cacheBytes = DEFAULT_CACHE_BYTES) {
    this.frameBytes = shape.reduce((a, b) => a * b, 1);
    this.cache = new FrameCache(cacheBytes);
  }

  /** Put every step of `steps` (not cached) into the cache; may put neighbours too. */
  protected abstract fetch(steps: number[]): Promise<void>;
  /** A frame read synchronously, when the source can (a file read); undefined otherwise. */
  protected readSync(_step: number): Uint8Array | undefined {
    return undefined;
  }

  protected checkStep(step: number): void {
    if (!(Number.isInteger(step) && step >= 0 && step < this.length)) throw new ScdError(`${this.where}: frame ${step} is out of range (0..${this.length - 1})`);
  }

  async load(steps: readonly number[]): Promise<void> {
    for (const s of steps) this.checkStep(s);
    this.cache.pin(steps);
    try {
      // one fetch at a time: a decoder is stateful, and a second load may want the frames the first is fetching
      const run = this.chain.then(async () => {
        const want = [...new Set(steps)], miss = want.filter((s) => !this.cache.has(s)).sort((a, b) => a - b);
        this.cache.hits += want.length - miss.length;
        this.cache.misses += miss.length;
        if (miss.length) await this.fetch(miss);
      });
      this.chain = run.catch(() => undefined);
      await run;
      for (const s of steps) if (!this.cache.has(s)) throw new Error(`${this.where}: frame ${s} was not fetched`);
    } catch (e) {
      this.cache.unpin(steps);
      throw e;
    }
  }

  release(steps: readonly number[]): void {
    this.cache.unpin(steps);
  }

  frame(step: number): Uint8Array {
    const hit = this.cache.get(step);
    if (hit) return hit;
    this.checkStep(step);
    const f = this.readSync(step);
    if (!f) throw new Error(`${this.where}: frame ${step} is not loaded (await load([...]) first, or sample with sampleWindowsAsync)`);
    this.cache.misses++;
    this.cache.put(step, f);
    return f;
  }

  close(): void {}
}

/** Frames already in memory (a flat Uint8Array of steps × H·W·C). */
export class ArrayFrames implements FrameSource {
  readonly length: number;
  private readonly fb: number;
  constructor(readonly data: Uint8Array, readonly shape: readonly number[], readonly where = "frames") {
    this.fb = shape.reduce((a, b) => a * b, 1);
    this.length = data.length / this.fb;
  }
  async load(steps: readonly number[]): Promise<void> {
    for (const s of steps) if (!(s >= 0 && s < this.length)) throw new ScdError(`${this.where}: frame ${s} is out of range (0..${this.length - 1})`);
  }
  release(): void {}
  frame(step: number): Uint8Array {
    return this.data.subarray(step * this.fb, (step + 1) * this.fb);
  }
  close(): void {}
}

/** Several sources one after another (the episodes of several datasets in turn). */
export class ConcatFrames implements FrameSource {
  readonly length: number;
  readonly where: string;
  readonly shape: readonly number[];
  private readonly starts: number[] = [];
  constructor(readonly parts: FrameSource[]) {
    let n = 0;
    for (const p of parts) this.starts.push(n), (n += p.length);
    this.length = n;
    this.shape = parts[0].shape;
    this.where = parts.map((p) => p.where).join(" + ");
  }
  private split(steps: readonly number[]): number[][] {
    const out = this.parts.map(() => [] as number[]);
    for (const s of steps) {
      let i = this.parts.length - 1;
      while (i > 0 && this.starts[i] > s) i--;
      out[i].push(s - this.starts[i]);
    }
    return out;
  }
  async load(steps: readonly number[]): Promise<void> {
    const by = this.split(steps);
    await Promise.all(this.parts.map((p, i) => (by[i].length ? p.load(by[i]) : undefined)));
  }
  release(steps: readonly number[]): void {
    this.split(steps).forEach((s, i) => s.length && this.parts[i].release(s));
  }
  frame(step: number): Uint8Array {
    let i = this.parts.length - 1;
    while (i > 0 && this.starts[i] > step) i--;
    return this.parts[i].frame(step - this.starts[i]);
  }
  close(): void {
    for (const p of this.parts) p.close();
  }
}

/** The first `length` frames of a source (a dataset cut to its first episodes). */
export class SliceFrames implements FrameSource {
  constructor(readonly src: FrameSource, readonly length: number) {}
  get shape(): readonly number[] {
    return this.src.shape;
  }
  get where(): string {
    return this.src.where;
  }
  load(steps: readonly number[]): Promise<void> {
    for (const s of steps) if (!(s >= 0 && s < this.length)) throw new ScdError(`${this.where}: frame ${s} is out of range (0..${this.length - 1})`);
    return this.src.load(steps);
  }
  release(steps: readonly number[]): void {
    this.src.release(steps);
  }
  frame(step: number): Uint8Array {
    return this.src.frame(step);
  }
  close(): void {
    this.src.close();
  }
}

/** The frames `steps` of a source, copied into one flat array [steps.length, H·W·C] (loaded, copied, released). */
export async function readFrames(src: FrameSource, steps: readonly number[]): Promise<Uint8Array> {
  const fb = src.shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(steps.length * fb);
  await src.load(steps);
  try {
    steps.forEach((s, i) => out.set(src.frame(s), i * fb));
  } finally {
    src.release(steps);
  }
  return out;
}

/** `count` steps spread evenly over `n` (all of them when n ≤ count): the frames a summary samples. */
export function evenSteps(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * n) / count));
}
