/**
 * The native dataset format (.scdd): msgpack records (typed arrays preserved) behind length prefixes.
 *   "SCDDSET1" | [u32 len][header] | [u32 len][episode 0] ... | [u32 len][footer] | [u64 footerOffset]["SCDDEND1"]
 * The footer (episode ends, byte offsets, CRC32 of every record) is written last, so a file cut short anywhere
 * has no valid trailer and is rejected. Writers stream episodes into "<out>.partial" and rename on finalize.
 * Readers load header + footer and decode episodes lazily.
 */
import * as fs from "node:fs";
import { ScdError } from "../errors.ts";
import { ensureParent } from "../util/outputs.ts";
import { type Schema, type Episode, type EpisodeBuffer, concatEpisodes } from "./episodes.ts";
import { type DatasetHeader, type DatasetFooter, headerBytes, episodeRecord, footerBytes, openContainer, decodeEpisode } from "./native-bytes.ts";

export { FORMAT, VERSION, type DatasetHeader, encodeDataset, decodeDataset } from "./native-bytes.ts";

/** Streams whole episodes into a temporary file; `finalize()` makes it a valid dataset atomically. */
export class DatasetWriter {
  private fd: number;
  private pos = 0;
  private readonly ends: number[] = [];
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private readonly crcs: number[] = [];
  private closed = false;
  readonly partialPath: string;

  constructor(readonly path: string, readonly schema: Schema, meta: Record<string, unknown> = {}) {
    this.partialPath = `${path}.partial`;
    this.fd = fs.openSync(ensureParent(this.partialPath), "w"); // a fresh clone has no runs/ yet
    for (const b of headerBytes(schema, meta)) this.write(b);
  }

  private write(buf: Uint8Array): void {
    fs.writeSync(this.fd, buf, 0, buf.length, this.pos);
    this.pos += buf.length;
  }

  /** Episodes appended so far. */
  get episodes(): number {
    return this.ends.length;
  }

  /** Write one whole episode (feature → values over its steps). @throws ScdError after finalize, or when the episode disagrees with the schema. */
  appendEpisode(ep: Episode): void {
    if (this.closed) throw new ScdError(`${this.path}: writer already finalized`);
    const { rec, len, crc } = episodeRecord(this.schema, ep, this.ends.length, this.path);
    this.offsets.push(this.pos);
    this.lengths.push(rec.length);
    this.crcs.push(crc);
    this.write(rec);
    this.ends.push((this.ends.at(-1) ?? 0) + len);
  }

  /** Write the footer, sync, and rename `<path>.partial` to `path`: the dataset is complete. Idempotent. */
  finalize(): void {
    if (this.closed) return;
    const footerOffset = this.pos;
    const f = { episodes: this.ends.length, steps: this.ends.at(-1) ?? 0, episodeEnds: this.ends, offsets: this.offsets, lengths: this.lengths, crcs: this.crcs };
    for (const b of footerBytes(f, footerOffset)) this.write(b);
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

  /** Decode episode `k` (its CRC checked). @throws ScdError when `k` is out of range or the record is corrupt. */
  readEpisode(k: number): Episode {
    if (!(k >= 0 && k < this.numEpisodes)) throw new ScdError(`${this.path}: episode ${k} out of range (0..${this.numEpisodes - 1})`);
    const buf = Buffer.alloc(this.footer.lengths[k]);
    const got = fs.readSync(this.fd, buf, 0, buf.length, this.footer.offsets[k]);
    return decodeEpisode(this.path, this.schema, this.footer, k, buf.subarray(0, got));
  }

  /** Every episode, concatenated into one buffer. */
  readAll(): EpisodeBuffer {
    return concatEpisodes(this.schema, Array.from({ length: this.numEpisodes }, (_, k) => this.readEpisode(k)));
  }

  /** Close the file. */
  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Write a whole buffer as a `.scdd` file, atomically (through {@link DatasetWriter}). */
export function writeDataset(path: string, buf: EpisodeBuffer, meta: Record<string, unknown> = {}): void {
  const w = new DatasetWriter(path, buf.schema, meta);
  try {
    for (let k = 0; k < buf.episodeEnds.length; k++) {
      const s = k ? buf.episodeEnds[k - 1] : 0, e = buf.episodeEnds[k];
      const ep: Episode = {};
      for (const [name, spec] of Object.entries(buf.schema)) {
        const d = spec.shape.reduce((a, b) => a * b, 1);
        ep[name] = buf.data[name].subarray(s * d, e * d);
      }
      w.appendEpisode(ep);
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
