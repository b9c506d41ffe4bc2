/**
 * Recover a native dataset (.scdd) whose writer was killed. DatasetWriter appends each finished episode to
 * "<out>.partial" unbuffered, so after a kill -9 the file holds the header and every episode finished before it —
 * but no footer, and readers refuse a file without one. salvageNative copies the whole, well-formed episode
 * records into a complete dataset; a record cut short by the kill is left out and counted.
 */
import * as fs from "node:fs";
import { Packr } from "msgpackr";
import { ScdError } from "../errors.ts";
import { DatasetWriter } from "../datasets/native.ts";
import { FORMAT, VERSION, MAGIC } from "../datasets/native-bytes.ts";
import { episodeLength, type Episode, type Schema } from "../datasets/episodes.ts";

// the options native-bytes.ts writes with: typed arrays stay typed
const packr = new Packr({ moreTypes: true, useRecords: false });

export interface SalvageResult {
  episodes: number;
  steps: number;
  /** Bytes after the last whole episode that were left out (a record cut short; 0 if the file ended cleanly). */
  droppedBytes: number;
}

/** True when `file` starts like a native dataset. */
export function isNativeDataset(file: string): boolean {
  const head = Buffer.alloc(MAGIC.length);
  const fd = fs.openSync(file, "r");
  try {
    return fs.readSync(fd, head, 0, head.length, 0) === head.length && head.equals(MAGIC);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Write the whole episodes of the unfinished dataset `src` to `out` as a complete dataset (atomically; `src` is
 * left as it is). Stops at the first record that is cut short or not an episode (e.g. a finished file's footer).
 * @throws ScdError naming `src` when it is not a native dataset or its header is unreadable.
 */
export function salvageNative(src: string, out: string): SalvageResult {
  const bytes = fs.readFileSync(src); // whole: `out` may be the name the partial file was written for
  const at = (pos: number): { value: unknown; end: number } | null => {
    if (pos + 4 > bytes.length) return null;
    const len = bytes.readUInt32LE(pos);
    if (pos + 4 + len > bytes.length) return null;
    try {
      return { value: packr.unpack(bytes.subarray(pos + 4, pos + 4 + len)), end: pos + 4 + len };
    } catch {
      return null;
    }
  };
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new ScdError(`${src}: not an scd dataset (bad magic bytes)`, "corrupt-file");
  const head = at(MAGIC.length);
  const header = head?.value as { format?: string; version?: number; schema?: Schema; meta?: Record<string, unknown> } | undefined;
  if (!head || header?.format !== FORMAT || header.version !== VERSION || !header.schema) throw new ScdError(`${src}: no readable ${FORMAT} v${VERSION} header; nothing to salvage`);
  const episodes: Episode[] = [];
  let pos = head.end, steps = 0;
  for (let r; (r = at(pos)); pos = r.end) {
    const rec = r.value as { episode?: unknown; data?: Episode } | null;
    if (!rec || typeof rec.episode !== "number" || !rec.data) break;
    try {
      steps += episodeLength(header.schema, rec.data, `${src}: episode ${episodes.length}`);
    } catch {
      break;
    }
    episodes.push(rec.data);
  }
  const tmp = `${out}.${process.pid}.salvage`;
  const w = new DatasetWriter(tmp, header.schema, { ...header.meta, salvagedFrom: src });
  try {
    for (const ep of episodes) w.appendEpisode(ep);
    w.finalize();
  } catch (e) {
    w.abort();
    throw e;
  }
  fs.renameSync(tmp, out);
  return { episodes: episodes.length, steps, droppedBytes: bytes.length - pos };
}
