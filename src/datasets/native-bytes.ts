/**
 * The native dataset format (.scdd) on bytes, browser-safe (no node: imports): record framing, the container's
 * header/footer checks shared with the file reader (native.ts), and whole-file encode/decode in memory — what a
 * web page records and downloads, or loads from a picked file. Layout (native.ts has the full description):
 *   "SCDDSET1" | [u32 len][header] | [u32 len][episode 0] [image blocks 0] ... | [u32 len][footer] | [u64 footerOffset]["SCDDEND1"]
 * Version 2 (written only when the schema has image features, uint8 [H, W, C]) keeps each image feature out of
 * the episode record: raw frames right after it, located and CRC-checked frame by frame through the footer.
 */
import { Packr } from "msgpackr";
import { z } from "zod";
import { ScdError } from "../errors.ts";
import { crc32 } from "../util/crc32.ts";
import { type Schema, type Episode, type EpisodeBuffer, concatEpisodes, episodeLength, featureDim } from "./episodes.ts";
import { isImageFeature } from "./frames.ts";

export const FORMAT = "scd-dataset";
/** The version written for a schema without image features (every file before images existed). */
export const VERSION = 1;
/** The version written when image features are stored frame by frame outside the episode records. */
export const IMAGE_VERSION = 2;
export const MAGIC = new TextEncoder().encode("SCDDSET1");
export const END_MAGIC = new TextEncoder().encode("SCDDEND1");
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
  // version 2: per image feature, each episode's block offset and each frame's CRC32 (by global step)
  images: z.record(z.string(), z.object({ offsets: z.array(z.number().int()), crcs: z.array(z.number().int()) })).optional(),
});
export type DatasetHeader = z.infer<typeof HeaderSchema>;
export type DatasetFooter = z.infer<typeof FooterSchema>;

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** One length-prefixed msgpack record. */
export function frameRecord(obj: unknown): Uint8Array {
  const body = packr.pack(obj);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length, true);
  out.set(body, 4);
  return out;
}

/** The image features of a schema, stored outside the episode records (in schema order). */
export const imageNames = (schema: Schema): string[] => Object.keys(schema).filter((n) => isImageFeature(schema[n]));
/** The features an episode record holds: all of them in version 1, all but the images in version 2. */
export const recordSchema = (h: Pick<DatasetHeader, "schema" | "version">): Schema =>
  h.version === IMAGE_VERSION ? Object.fromEntries(Object.entries(h.schema).filter(([, s]) => !isImageFeature(s))) : h.schema;

/** An episode's image frames for one feature: the raw block and each frame's CRC. */
export interface ImageBlock {
  name: string;
  bytes: Uint8Array;
  crcs: number[];
}

/**
 * A checked episode record: the framed bytes and their CRC, and (version 2) the image blocks that follow it.
 * Throws naming `where`, the feature and the index of a non-finite value.
 */
export function episodeRecord(schema: Schema, ep: Episode, index: number, where: string): { rec: Uint8Array; len: number; crc: number; blocks: ImageBlock[] } {
  const len = episodeLength(schema, ep, `${where}: episode ${index}`);
  const images = new Set(imageNames(schema));
  for (const [name, arr] of Object.entries(ep))
    if (!images.has(name))
      for (let i = 0; i < arr.length; i++)
        if (!Number.isFinite(arr[i])) throw new ScdError(`${where}: episode ${index} feature "${name}" has a non-finite value (${arr[i]}) at index ${i}`);
  const data = images.size ? Object.fromEntries(Object.entries(ep).filter(([n]) => !images.has(n))) : ep;
  const rec = frameRecord({ episode: index, length: len, data });
  const blocks = [...images].map((name) => {
    const fb = featureDim(schema[name]), bytes = ep[name] as Uint8Array;
    return { name, bytes, crcs: Array.from({ length: len }, (_, t) => crc32(bytes.subarray(t * fb, (t + 1) * fb))) };
  });
  return { rec, len, crc: crc32(rec), blocks };
}

/** Where frame `step` of image feature `name` lies: its byte offset, CRC, episode and frame within the episode. */
export function frameLocation(footer: DatasetFooter, name: string, frameBytes: number, step: number): { pos: number; crc: number; episode: number; frame: number } {
  const ends = footer.episodeEnds;
  let lo = 0, hi = ends.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid] > step) hi = mid;
    else lo = mid + 1;
  }
  const start = lo ? ends[lo - 1] : 0, img = footer.images![name];
  return { pos: img.offsets[lo] + (step - start) * frameBytes, crc: img.crcs[step], episode: lo, frame: step - start };
}

/** Frame `step` of image feature `name` from its bytes as read, CRC-checked. @throws ScdError naming the file, feature, episode and frame */
export function checkFrame(where: string, footer: DatasetFooter, name: string, frameBytes: number, step: number, bytes: Uint8Array): Uint8Array {
  const at = frameLocation(footer, name, frameBytes, step);
  if (bytes.length !== frameBytes || crc32(bytes) !== at.crc)
    throw new ScdError(`${where}: feature "${name}" episode ${at.episode} frame ${at.frame} is corrupt (${bytes.length === frameBytes ? "checksum mismatch" : `${bytes.length} of ${frameBytes} bytes`})`, "corrupt-file");
  return bytes;
}

/** Footer record + 16-byte trailer for a container whose footer starts at `footerOffset`. */
export function footerBytes(f: DatasetFooter, footerOffset: number): Uint8Array[] {
  const trailer = new Uint8Array(16);
  new DataView(trailer.buffer).setBigUint64(0, BigInt(footerOffset), true);
  trailer.set(END_MAGIC, 8);
  return [frameRecord(f), trailer];
}

export const headerBytes = (schema: Schema, meta: Record<string, unknown>): Uint8Array[] => [MAGIC, frameRecord({ format: FORMAT, version: imageNames(schema).length ? IMAGE_VERSION : VERSION, schema, meta })];

/** An empty footer, with an image index for each image feature of `schema`. */
export function emptyFooter(schema: Schema): DatasetFooter {
  const f: DatasetFooter = { episodes: 0, steps: 0, episodeEnds: [], offsets: [], lengths: [], crcs: [] };
  const names = imageNames(schema);
  if (names.length) f.images = Object.fromEntries(names.map((n) => [n, { offsets: [], crcs: [] }]));
  return f;
}

/** Record episode `rec` (written at `pos`, its blocks right after) in the footer; returns the position after it. */
export function addToFooter(f: DatasetFooter, r: ReturnType<typeof episodeRecord>, pos: number): number {
  f.offsets.push(pos);
  f.lengths.push(r.rec.length);
  f.crcs.push(r.crc);
  f.episodeEnds.push((f.episodeEnds.at(-1) ?? 0) + r.len);
  f.episodes = f.episodeEnds.length;
  f.steps = f.episodeEnds.at(-1)!;
  pos += r.rec.length;
  for (const b of r.blocks) {
    f.images![b.name].offsets.push(pos);
    f.images![b.name].crcs.push(...b.crcs);
    pos += b.bytes.length;
  }
  return pos;
}

/**
 * Header and footer of a container of `size` bytes read through `read(pos, len)`. Throws ScdError naming `where`
 * for a foreign file, a file cut short, a corrupt record, a wrong format or version.
 */
export function openContainer(where: string, size: number, readAt: (pos: number, len: number) => Uint8Array): { header: DatasetHeader; footer: DatasetFooter } {
  const read = (pos: number, len: number, what: string): Uint8Array => {
    if (pos < 0 || pos + len > size) throw new ScdError(`${where}: truncated or corrupt (${what} at byte ${pos}+${len} lies beyond the file size ${size})`, "corrupt-file");
    return readAt(pos, len);
  };
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (size < MAGIC.length || !equal(read(0, 8, "magic"), MAGIC)) throw new ScdError(`${where}: not an scd dataset (bad magic bytes; expected a file written by scd)`, "corrupt-file");
  if (size < 8 + 16 || !equal(read(size - 8, 8, "trailer"), END_MAGIC)) throw new ScdError(`${where}: truncated or unfinished dataset (no end marker; was recording interrupted before finalize?)`, "corrupt-file");
  const footerOffset = Number(view(read(size - 16, 8, "trailer")).getBigUint64(0, true));
  const decode = (pos: number, what: string): unknown => {
    const len = view(read(pos, 4, what)).getUint32(0, true);
    try {
      return packr.unpack(read(pos + 4, len, what));
    } catch (e) {
      throw new ScdError(`${where}: corrupt ${what} (${(e as Error).message})`, "corrupt-file");
    }
  };
  const header = HeaderSchema.safeParse(decode(8, "header"));
  if (!header.success) throw new ScdError(`${where}: invalid header: ${header.error.issues[0].path.join(".")}: ${header.error.issues[0].message}`, "corrupt-file");
  if (header.data.format !== FORMAT) throw new ScdError(`${where}: format "${header.data.format}" is not "${FORMAT}"`, "incompatible");
  if (header.data.version !== VERSION && header.data.version !== IMAGE_VERSION) throw new ScdError(`${where}: unsupported format version ${header.data.version} (this scd reads versions ${VERSION} and ${IMAGE_VERSION})`, "incompatible");
  const footer = FooterSchema.safeParse(decode(footerOffset, "footer"));
  if (!footer.success) throw new ScdError(`${where}: invalid footer: ${footer.error.issues[0].path.join(".")}: ${footer.error.issues[0].message}`, "corrupt-file");
  const f = footer.data;
  if (f.episodeEnds.length !== f.episodes || f.offsets.length !== f.episodes || f.crcs.length !== f.episodes)
    throw new ScdError(`${where}: corrupt footer (${f.episodes} episodes but ${f.episodeEnds.length} ends, ${f.offsets.length} offsets)`, "corrupt-file");
  for (const name of header.data.version === IMAGE_VERSION ? imageNames(header.data.schema) : []) {
    const img = f.images?.[name];
    if (!img || img.offsets.length !== f.episodes || img.crcs.length !== f.steps)
      throw new ScdError(`${where}: corrupt footer (image feature "${name}" has ${img ? `${img.offsets.length} episode offsets and ${img.crcs.length} frame checksums` : "no index"}, expected ${f.episodes} and ${f.steps})`, "corrupt-file");
  }
  return { header: header.data, footer: f };
}

/**
 * Episode `k` from its record bytes as read (a short read fails the length check), CRC- and length-checked against
 * the footer. `schema` is the record's ({@link recordSchema}): in version 2 the images are read separately.
 */
export function decodeEpisode(where: string, schema: Schema, footer: DatasetFooter, k: number, buf: Uint8Array): Episode {
  if (buf.length !== footer.lengths[k] || crc32(buf) !== footer.crcs[k]) throw new ScdError(`${where}: episode ${k} is corrupt (checksum mismatch)`, "corrupt-file");
  const rec = packr.unpack(buf.subarray(4)) as { data?: Episode };
  const at = `${where}: episode ${k}`;
  if (!rec || typeof rec !== "object" || !rec.data) throw new ScdError(`${at}: record has no data`, "corrupt-file");
  const want = footer.episodeEnds[k] - (k ? footer.episodeEnds[k - 1] : 0);
  const len = Object.keys(schema).length ? episodeLength(schema, rec.data, at) : want; // a dataset of images only
  if (len !== want) throw new ScdError(`${at}: has ${len} steps, the footer says ${want}`);
  return rec.data;
}

/** A whole dataset file in memory (byte for byte what DatasetWriter writes). Throws as DatasetWriter.appendEpisode. */
export function encodeDataset(schema: Schema, episodes: Episode[], meta: Record<string, unknown> = {}, where = "dataset"): Uint8Array {
  const parts = headerBytes(schema, meta);
  let pos = parts.reduce((a, p) => a + p.length, 0);
  const f = emptyFooter(schema);
  episodes.forEach((ep, k) => {
    const r = episodeRecord(schema, ep, k, where);
    pos = addToFooter(f, r, pos);
    parts.push(r.rec, ...r.blocks.map((b) => b.bytes));
  });
  parts.push(...footerBytes(f, pos));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

/** Every episode of a dataset file held in memory; `where` names it in errors (e.g. the picked file's name). */
export function decodeDataset(bytes: Uint8Array, where: string): { buffer: EpisodeBuffer; header: DatasetHeader } {
  const { header, footer } = openContainer(where, bytes.length, (pos, len) => bytes.subarray(pos, pos + len));
  const rs = recordSchema(header);
  const eps = footer.offsets.map((off, k) => decodeEpisode(where, rs, footer, k, bytes.subarray(off, Math.min(bytes.length, off + footer.lengths[k]))));
  for (const name of Object.keys(header.schema).filter((n) => !rs[n])) {
    const fb = featureDim(header.schema[name]);
    eps.forEach((ep, k) => {
      const s = k ? footer.episodeEnds[k - 1] : 0, arr = new Uint8Array((footer.episodeEnds[k] - s) * fb);
      for (let t = s; t < footer.episodeEnds[k]; t++) {
        const { pos } = frameLocation(footer, name, fb, t);
        arr.set(checkFrame(where, footer, name, fb, t, bytes.subarray(pos, Math.min(bytes.length, pos + fb))), (t - s) * fb);
      }
      ep[name] = arr;
    });
  }
  return { buffer: concatEpisodes(header.schema, eps), header };
}
