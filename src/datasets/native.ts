/**
 * The native dataset format (.scdd): msgpack records (typed arrays preserved) behind length prefixes.
 *   "SCDDSET1" | [u32 len][header] | [u32 len][episode 0] ... | [u32 len][footer] | [u64 footerOffset]["SCDDEND1"]
 * The footer (episode ends, byte offsets, CRC32 of every record) is written last, so a file cut short anywhere
 * has no valid trailer and is rejected. Writers stream episodes into "<out>.partial" and rename on finalize.
 * Readers load header + footer and decode episodes lazily.
 *
 * Image features (uint8 [H, W, C]; version 2 of the format) are not in the episode records: each episode's frames
 * follow its record as raw bytes, and the footer has each block's offset and each frame's CRC32. A reader opened
 * lazily ({@link DatasetReader.readLazy}) keeps the other features in memory and serves image frames through
 * `ScddFrames`: one positioned read (and CRC check) per frame, an LRU cache of recent frames. Push-T's 25,650
 * frames of 96 × 96 × 3 (709 MB) then cost nothing until a window asks for them.
 */
import * as fs from "node:fs";
import { ScdError } from "../errors.ts";
import { ensureParent } from "../util/outputs.ts";
import { type Schema, type Episode, type EpisodeBuffer, concatEpisodes, featureDim, loadEpisode } from "./episodes.ts";
import { type DatasetHeader, type DatasetFooter, headerBytes, episodeRecord, footerBytes, openContainer, decodeEpisode, emptyFooter, addToFooter, recordSchema, frameLocation, checkFrame } from "./native-bytes.ts";
import { CachedFrames, DEFAULT_CACHE_BYTES, type FrameSource } from "./frames.ts";

export { FORMAT, VERSION, IMAGE_VERSION, type DatasetHeader, encodeDataset, decodeDataset } from "./native-bytes.ts";

/** Streams whole episodes into a temporary file; `finalize()` makes it a valid dataset atomically. */
export class DatasetWriter {
  private fd: number;
  private pos = 0;
  private readonly footer: DatasetFooter;
  private closed = false;
  readonly partialPath: string;

  constructor(readonly path: string, readonly schema: Schema, meta: Record<string, unknown> = {}) {
    this.partialPath = `${path}.partial`;
    this.fd = fs.openSync(ensureParent(this.partialPath), "w"); // a fresh clone has no runs/ yet
    this.footer = emptyFooter(schema);
    for (const b of headerBytes(schema, meta)) this.write(b);
  }

  private write(buf: Uint8Array): void {
    fs.writeSync(this.fd, buf, 0, buf.length, this.pos);
    this.pos += buf.length;
  }

  /** Episodes appended so far. */
  get episodes(): number {
    return this.footer.episodes;
  }

  /**
   * Write one whole episode (feature → values over its steps); image features go to the frame section after it.
   * @throws ScdError after finalize, or when the episode disagrees with the schema.
   */
  appendEpisode(ep: Episode): void {
    if (this.closed) throw new ScdError(`${this.path}: writer already finalized`);
    const r = episodeRecord(this.schema, ep, this.footer.episodes, this.path);
    addToFooter(this.footer, r, this.pos);
    this.write(r.rec);
    for (const b of r.blocks) this.write(b.bytes);
  }

  /** Write the footer, sync, and rename `<path>.partial` to `path`: the dataset is complete. Idempotent. */
  finalize(): void {
    if (this.closed) return;
    for (const b of footerBytes(this.footer, this.pos)) this.write(b);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.closed = true;
    fs.renameSync(this.partialPath, this.path);
  }

  /** Close and delete the partial file without making a dataset. Idempotent. */
  abort(): void {
    if (this.closed) return;
    fs.closeSync(this.fd);
    fs.rmSync(this.partialPath, { force: true });
    this.closed = true;
  }
}

/** Lazy reader: header and footer at open, episodes on demand (CRC-checked). */
export class DatasetReader {
  private constructor(
    readonly path: string, private readonly fd: number, readonly header: DatasetHeader,
    private readonly footer: DatasetFooter,
  ) {}

  /** Open a `.scdd` file and read its header and footer. @throws ScdError when it cannot be opened or is truncated or corrupt. */
  static open(path: string): DatasetReader {
    let fd: number;
    try {
      fd = fs.openSync(path, "r");
    } catch (e) {
      throw new ScdError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, "corrupt-file");
    }
    try {
      const { header, footer } = openContainer(path, fs.fstatSync(fd).size, (pos, len) => {
        const b = Buffer.alloc(len);
        fs.readSync(fd, b, 0, len, pos);
        return b;
      });
      return new DatasetReader(path, fd, header, footer);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** The features and their shapes. */
  get schema(): Schema {
    return this.header.schema;
  }
  /** Episodes in the file. */
  get numEpisodes(): number {
    return this.footer.episodes;
  }
  /** Steps in the file, over all episodes. */
  get numSteps(): number {
    return this.footer.steps;
  }
  /** Exclusive end step of each episode (a copy). */
  get episodeEnds(): Int32Array {
    return Int32Array.from(this.footer.episodeEnds);
  }

  /** Episode `k`'s record: every feature but the images of a version-2 file (CRC checked). */
  private readRecord(k: number): Episode {
    if (!(k >= 0 && k < this.numEpisodes)) throw new ScdError(`${this.path}: episode ${k} out of range (0..${this.numEpisodes - 1})`);
    const buf = Buffer.alloc(this.footer.lengths[k]);
    const got = fs.readSync(this.fd, buf, 0, buf.length, this.footer.offsets[k]);
    return decodeEpisode(this.path, recordSchema(this.header), this.footer, k, buf.subarray(0, got));
  }

  /** Decode episode `k`, image frames included (every CRC checked). @throws ScdError when `k` is out of range or the record is corrupt. */
  readEpisode(k: number): Episode {
    const ep = this.readRecord(k);
    const s = k ? this.footer.episodeEnds[k - 1] : 0, n = this.footer.episodeEnds[k] - s;
    for (const name of this.imageFeatures) {
      const fb = featureDim(this.schema[name]), block = Buffer.alloc(n * fb);
      const got = fs.readSync(this.fd, block, 0, block.length, this.footer.images![name].offsets[k]);
      for (let t = 0; t < n; t++) checkFrame(this.path, this.footer, name, fb, s + t, block.subarray(t * fb, Math.min(got, (t + 1) * fb)));
      ep[name] = new Uint8Array(block.buffer, block.byteOffset, block.length);
    }
    return ep;
  }

  /** The image features stored frame by frame (version 2). */
  get imageFeatures(): string[] {
    const rs = recordSchema(this.header);
    return Object.keys(this.schema).filter((n) => !rs[n]);
  }

  /** Every episode, concatenated into one buffer (image frames included: all in memory). */
  readAll(): EpisodeBuffer {
    return concatEpisodes(this.schema, Array.from({ length: this.numEpisodes }, (_, k) => this.readEpisode(k)));
  }

  /**
   * Every episode with the image features left on disk: the other features in memory, each image feature an
   * `ScddFrames` source (its own file handle, so this reader may be closed). `cacheBytes` bounds each cache.
   */
  readLazy(cacheBytes = DEFAULT_CACHE_BYTES): EpisodeBuffer {
    const rs = recordSchema(this.header);
    const buf = concatEpisodes(rs, Array.from({ length: this.numEpisodes }, (_, k) => this.readRecord(k)));
    const frames: Record<string, FrameSource> = {};
    for (const name of this.imageFeatures) frames[name] = new ScddFrames(this.path, this.footer, name, this.schema[name].shape, cacheBytes);
    return { schema: this.schema, data: buf.data, episodeEnds: Int32Array.from(this.footer.episodeEnds), ...(this.imageFeatures.length ? { frames } : {}) };
  }

  /** Close the file. */
  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * The frames of one image feature of a version-2 .scdd file: each frame one positioned read of H·W·C bytes, its
 * CRC32 checked, kept in an LRU cache (default 64 MiB). Synchronous, so the window sampler needs no prefetch.
 */
export class ScddFrames extends CachedFrames {
  private fd: number | null = null;
  constructor(readonly path: string, private readonly footer: DatasetFooter, readonly feature: string, shape: readonly number[], cacheBytes = DEFAULT_CACHE_BYTES) {
    super(`${path}: feature "${feature}"`, shape, footer.steps, cacheBytes);
  }
  protected override readSync(step: number): Uint8Array {
    if (this.fd === null) {
      try {
        this.fd = fs.openSync(this.path, "r");
      } catch (e) {
        throw new ScdError(`${this.path}: cannot open to read feature "${this.feature}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, "missing-file");
      }
    }
    const { pos } = frameLocation(this.footer, this.feature, this.frameBytes, step);
    const b = new Uint8Array(this.frameBytes);
    const got = fs.readSync(this.fd, b, 0, b.length, pos);
    return checkFrame(this.path, this.footer, this.feature, this.frameBytes, step, b.subarray(0, got));
  }
  protected async fetch(steps: number[]): Promise<void> {
    for (const s of steps) this.cache.put(s, this.readSync(s));
  }
  override close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Episode `k` of a buffer as views (no copy) of its in-memory features; lazy image features are left out. */
function episodeViews(buf: EpisodeBuffer, k: number): Episode {
  const s = k ? buf.episodeEnds[k - 1] : 0, e = buf.episodeEnds[k];
  const ep: Episode = {};
  for (const [name, spec] of Object.entries(buf.schema)) if (buf.data[name]) ep[name] = buf.data[name].subarray(s * featureDim(spec), e * featureDim(spec));
  return ep;
}

/** Write a whole buffer as a `.scdd` file, atomically (through {@link DatasetWriter}); lazy frames are read synchronously. */
export function writeDataset(path: string, buf: EpisodeBuffer, meta: Record<string, unknown> = {}): void {
  const w = new DatasetWriter(path, buf.schema, meta);
  try {
    for (let k = 0; k < buf.episodeEnds.length; k++) w.appendEpisode(buf.frames ? { ...episodeViews(buf, k), ...loadedFrames(buf, k) } : episodeViews(buf, k));
    w.finalize();
  } catch (e) {
    w.abort();
    throw e;
  }
}

function loadedFrames(buf: EpisodeBuffer, k: number): Episode {
  const s = k ? buf.episodeEnds[k - 1] : 0, e = buf.episodeEnds[k], out: Episode = {};
  for (const [name, src] of Object.entries(buf.frames ?? {})) {
    const fb = featureDim(buf.schema[name]), arr = new Uint8Array((e - s) * fb);
    for (let t = s; t < e; t++) arr.set(src.frame(t), (t - s) * fb);
    out[name] = arr;
  }
  return out;
}

/**
 * {@link writeDataset} for any frame source (Zarr chunks, video): one episode's frames in memory at a time, so a
 * dataset of images is converted without holding its frames. `onProgress` hears every 10th episode.
 */
export async function writeDatasetAsync(path: string, buf: EpisodeBuffer, meta: Record<string, unknown> = {}, onProgress?: (line: string) => void): Promise<void> {
  const w = new DatasetWriter(path, buf.schema, meta);
  try {
    for (let k = 0; k < buf.episodeEnds.length; k++) {
      w.appendEpisode(buf.frames ? await loadEpisode(buf, k) : episodeViews(buf, k));
      if (buf.frames && (k % 10 === 9 || k === buf.episodeEnds.length - 1)) onProgress?.(`wrote episode ${k + 1} of ${buf.episodeEnds.length}`);
    }
    w.finalize();
  } catch (e) {
    w.abort();
    throw e;
  }
}

/** Read a whole `.scdd` file: its episodes and its header (schema, metadata). */
export function readDataset(path: string): { buffer: EpisodeBuffer; header: DatasetHeader } {
  const r = DatasetReader.open(path);
  try {
    return { buffer: r.readAll(), header: r.header };
  } finally {
    r.close();
  }
}
