/**
 * The native dataset format (.scdd): msgpack records (typed arrays preserved) behind length prefixes.
 *   "SCDDSET1" | [u32 len][header] | [u32 len][episode 0] ... | [u32 len][footer] | [u64 footerOffset]["SCDDEND1"]
 * The footer (episode ends, byte offsets, CRC32 of every record) is written last, so a file cut short anywhere
 * has no valid trailer and is rejected. Writers stream episodes into "<out>.partial" and rename on finalize.
 * Readers load header + footer and decode episodes lazily.
 */
import * as fs from "node:fs";
import { Packr } from "msgpackr";
import { z } from "zod";
import { ScdError } from "../errors.ts";
import { crc32 } from "../util/fsx.ts";
import { type Schema, type Episode, type EpisodeBuffer, concatEpisodes, episodeLength } from "./episodes.ts";

export const FORMAT = "scd-dataset";
export const VERSION = 1;
const MAGIC = Buffer.from("SCDDSET1");
const END_MAGIC = Buffer.from("SCDDEND1");
// moreTypes keeps typed arrays typed; no records, so any msgpack reader sees plain maps
const packr = new Packr({ moreTypes: true, useRecords: false });

const HeaderSchema = z.object({
  format: z.string(),
  version: z.number().int(),
  schema: z.record(z.string(), z.object({ shape: z.array(z.number().int().positive()), dtype: z.enum(["float32", "uint8"]).optional() })),
  meta: z.record(z.string(), z.unknown()).default({}),
});
const FooterSchema = z.object({
  episodes: z.number().int().nonnegative(),
  steps: z.number().int().nonnegative(),
  episodeEnds: z.array(z.number().int()),
  offsets: z.array(z.number().int()),
  lengths: z.array(z.number().int()),
  crcs: z.array(z.number().int()),
});
export type DatasetHeader = z.infer<typeof HeaderSchema>;

function frame(obj: unknown): Buffer {
  const body = packr.pack(obj);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  return Buffer.concat([len, body]);
}

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
    this.fd = fs.openSync(this.partialPath, "w");
    this.write(MAGIC);
    this.write(frame({ format: FORMAT, version: VERSION, schema, meta }));
  }

  private write(buf: Buffer): void {
    fs.writeSync(this.fd, buf, 0, buf.length, this.pos);
    this.pos += buf.length;
  }

  get episodes(): number {
    return this.ends.length;
  }

  appendEpisode(ep: Episode): void {
    if (this.closed) throw new ScdError(`${this.path}: writer already finalized`);
    const len = episodeLength(this.schema, ep, `${this.path}: episode ${this.ends.length}`);
    for (const [name, arr] of Object.entries(ep))
      for (let i = 0; i < arr.length; i++)
        if (!Number.isFinite(arr[i])) throw new ScdError(`${this.path}: episode ${this.ends.length} feature "${name}" has a non-finite value (${arr[i]}) at index ${i}`);
    const rec = frame({ episode: this.ends.length, length: len, data: ep });
    this.offsets.push(this.pos);
    this.lengths.push(rec.length);
    this.crcs.push(crc32(rec));
    this.write(rec);
    this.ends.push((this.ends.at(-1) ?? 0) + len);
  }

  finalize(): void {
    if (this.closed) return;
    const footerOffset = this.pos;
    this.write(frame({ episodes: this.ends.length, steps: this.ends.at(-1) ?? 0, episodeEnds: this.ends, offsets: this.offsets, lengths: this.lengths, crcs: this.crcs }));
    const trailer = Buffer.alloc(16);
    trailer.writeBigUInt64LE(BigInt(footerOffset));
    END_MAGIC.copy(trailer, 8);
    this.write(trailer);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.closed = true;
    fs.renameSync(this.partialPath, this.path);
  }

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
    private readonly footer: z.infer<typeof FooterSchema>,
  ) {}

  static open(path: string): DatasetReader {
    let fd: number;
    try {
      fd = fs.openSync(path, "r");
    } catch (e) {
      throw new ScdError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      const size = fs.fstatSync(fd).size;
      const read = (pos: number, len: number, what: string): Buffer => {
        if (pos < 0 || pos + len > size) throw new ScdError(`${path}: truncated or corrupt (${what} at byte ${pos}+${len} lies beyond the file size ${size})`);
        const b = Buffer.alloc(len);
        fs.readSync(fd, b, 0, len, pos);
        return b;
      };
      if (size < MAGIC.length || !read(0, 8, "magic").equals(MAGIC)) throw new ScdError(`${path}: not an scd dataset (bad magic bytes; expected a file written by scd)`);
      if (size < 8 + 16 || !read(size - 8, 8, "trailer").equals(END_MAGIC)) throw new ScdError(`${path}: truncated or unfinished dataset (no end marker; was recording interrupted before finalize?)`);
      const footerOffset = Number(read(size - 16, 8, "trailer").readBigUInt64LE());
      const decode = (pos: number, what: string): unknown => {
        const len = read(pos, 4, what).readUInt32LE();
        try {
          return packr.unpack(read(pos + 4, len, what));
        } catch (e) {
          throw new ScdError(`${path}: corrupt ${what} (${(e as Error).message})`);
        }
      };
      const header = HeaderSchema.safeParse(decode(8, "header"));
      if (!header.success) throw new ScdError(`${path}: invalid header: ${header.error.issues[0].path.join(".")}: ${header.error.issues[0].message}`);
      if (header.data.format !== FORMAT) throw new ScdError(`${path}: format "${header.data.format}" is not "${FORMAT}"`);
      if (header.data.version !== VERSION) throw new ScdError(`${path}: unsupported format version ${header.data.version} (this scd reads version ${VERSION})`);
      const footer = FooterSchema.safeParse(decode(footerOffset, "footer"));
      if (!footer.success) throw new ScdError(`${path}: invalid footer: ${footer.error.issues[0].path.join(".")}: ${footer.error.issues[0].message}`);
      const f = footer.data;
      if (f.episodeEnds.length !== f.episodes || f.offsets.length !== f.episodes || f.crcs.length !== f.episodes)
        throw new ScdError(`${path}: corrupt footer (${f.episodes} episodes but ${f.episodeEnds.length} ends, ${f.offsets.length} offsets)`);
      return new DatasetReader(path, fd, header.data, f);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  get schema(): Schema {
    return this.header.schema;
  }
  get numEpisodes(): number {
    return this.footer.episodes;
  }
  get numSteps(): number {
    return this.footer.steps;
  }
  get episodeEnds(): Int32Array {
    return Int32Array.from(this.footer.episodeEnds);
  }

  readEpisode(k: number): Episode {
    if (!(k >= 0 && k < this.numEpisodes)) throw new ScdError(`${this.path}: episode ${k} out of range (0..${this.numEpisodes - 1})`);
    const buf = Buffer.alloc(this.footer.lengths[k]);
    const got = fs.readSync(this.fd, buf, 0, buf.length, this.footer.offsets[k]);
    if (got !== buf.length || crc32(buf) !== this.footer.crcs[k]) throw new ScdError(`${this.path}: episode ${k} is corrupt (checksum mismatch)`);
    const rec = packr.unpack(buf.subarray(4)) as { data?: Episode };
    const where = `${this.path}: episode ${k}`;
    if (!rec || typeof rec !== "object" || !rec.data) throw new ScdError(`${where}: record has no data`);
    const len = episodeLength(this.schema, rec.data, where);
    const want = this.footer.episodeEnds[k] - (k ? this.footer.episodeEnds[k - 1] : 0);
    if (len !== want) throw new ScdError(`${where}: has ${len} steps, the footer says ${want}`);
    return rec.data;
  }

  readAll(): EpisodeBuffer {
    return concatEpisodes(this.schema, Array.from({ length: this.numEpisodes }, (_, k) => this.readEpisode(k)));
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

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

export function readDataset(path: string): { buffer: EpisodeBuffer; header: DatasetHeader } {
  const r = DatasetReader.open(path);
  try {
    return { buffer: r.readAll(), header: r.header };
  } finally {
    r.close();
  }
}
