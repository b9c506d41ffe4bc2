/**
 * A live MCAP log is written as a plain record stream (no chunks, no index: every record is on disk as soon as it
 * is flushed), which @mcap/core's McapStreamReader reads even when the writer was killed mid-file. indexMcap turns
 * such a stream — or whatever of it survived — into the chunked, indexed file that Foxglove and McapIndexedReader
 * open fast: on close() of a log, and by `scd salvage` after a crash.
 */
import * as fs from "node:fs";
import { McapStreamReader, McapWriter } from "@mcap/core";
import { FileHandleWritable } from "@mcap/nodejs";
import { ScdError } from "../../errors.ts";
import { ensureParent } from "../../util/outputs.ts";

export interface IndexResult {
  messages: number;
  channels: number;
  /** Bytes at the end that were not a whole, valid record (a write cut short), left out. */
  droppedBytes: number;
  /** Why reading stopped early, when a record was corrupt rather than cut short. */
  stoppedAt?: string;
}

const PIECE = 1 << 20;

/**
 * Copy every whole record of the MCAP stream `src` into a chunked, indexed MCAP file `dest` (written in place;
 * callers rename). Records of an already indexed file's summary are skipped, so a complete file copies too.
 * @throws ScdError naming `src` when it is not MCAP or has no header record; write errors as they come.
 */
export async function indexMcap(src: string, dest: string): Promise<IndexResult> {
  const input = fs.openSync(src, "r");
  const fh = await fs.promises.open(ensureParent(dest), "w");
  const w = new McapWriter({ writable: new FileHandleWritable(fh) });
  const schemaIds = new Map<number, number>(), channelIds = new Map<number, number>();
  const reader = new McapStreamReader({ validateCrcs: true });
  let started = false, ended = false, messages = 0, read = 0, stoppedAt: string | undefined;
  const buf = Buffer.alloc(PIECE);
  try {
    outer: for (let n; (n = fs.readSync(input, buf, 0, PIECE, read)) > 0; ) {
      read += n;
      reader.append(buf.subarray(0, n));
      for (;;) {
        let r;
        try {
          r = reader.nextRecord();
        } catch (e) {
          if (!started) throw new ScdError(`${src}: not a readable MCAP stream (${(e as Error).message})`);
          stoppedAt = (e as Error).message; // a corrupt record: keep what came before it
          break outer;
        }
        if (!r) break;
        if (r.type === "Header") {
          await w.start({ profile: r.profile, library: r.library });
          started = true;
        } else if (!started) continue;
        else if (r.type === "Schema" && !schemaIds.has(r.id)) schemaIds.set(r.id, await w.registerSchema({ name: r.name, encoding: r.encoding, data: r.data }));
        else if (r.type === "Channel" && !channelIds.has(r.id))
          channelIds.set(r.id, await w.registerChannel({ topic: r.topic, messageEncoding: r.messageEncoding, schemaId: schemaIds.get(r.schemaId) ?? 0, metadata: r.metadata }));
        else if (r.type === "Message" && channelIds.has(r.channelId)) {
          await w.addMessage({ ...r, channelId: channelIds.get(r.channelId)! });
          messages++;
        } else if (r.type === "Metadata") await w.addMetadata({ name: r.name, metadata: r.metadata });
        else if (r.type === "Attachment") await w.addAttachment(r);
        else if (r.type === "DataEnd") {
          ended = true; // the summary that follows repeats what was read
          break outer;
        }
      }
    }
    if (!started) throw new ScdError(`${src}: not a readable MCAP stream (no header record in ${read} bytes)`);
    await w.end();
  } finally {
    fs.closeSync(input);
    await fh.close();
  }
  const unread = fs.statSync(src).size - read;
  const droppedBytes = ended || reader.done() ? 0 : reader.bytesRemaining() + unread;
  return { messages, channels: channelIds.size, droppedBytes, ...(stoppedAt ? { stoppedAt } : {}) };
}
