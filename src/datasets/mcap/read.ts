/** Read back what an MCAP log holds (channels, schemas, counts, time order), with one clear error for a bad file. */
import * as fs from "node:fs";
import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { FileHandleReadable } from "@mcap/nodejs";
import { ScdError } from "../../errors.ts";

export interface McapSummary {
  channels: Record<string, { schema: string; schemaEncoding: string; messageEncoding: string; messages: number }>;
  messages: number;
  /** Log times never decrease in file order (read with the stream reader, not the time-sorted index). */
  monotonic: boolean;
  startNs: bigint;
  endNs: bigint;
  metadata: Record<string, Record<string, string>>;
}

/**
 * Open `file` with @mcap/core's indexed reader and walk every message.
 * @throws ScdError naming the file when it is missing, truncated (no footer/summary) or corrupt.
 */
export async function readMcapSummary(file: string, onMessage?: (topic: string, logTime: bigint, data: Uint8Array) => void): Promise<McapSummary> {
  if (!fs.existsSync(file)) throw new ScdError(`${file}: no such file`, "missing-file");
  const fh = await fs.promises.open(file, "r");
  try {
    let reader: McapIndexedReader;
    try {
      reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(fh) });
    } catch (e) {
      throw new ScdError(`${file}: not a readable MCAP file, truncated or corrupt (${(e as Error).message}; ${fs.statSync(file).size} bytes)`, "corrupt-file");
    }
    const channels: McapSummary["channels"] = {};
    for (const c of reader.channelsById.values()) {
      const s = reader.schemasById.get(c.schemaId);
      channels[c.topic] = { schema: s?.name ?? "", schemaEncoding: s?.encoding ?? "", messageEncoding: c.messageEncoding, messages: 0 };
    }
    let messages = 0, monotonic = true, last = -1n, start = -1n;
    try {
      for await (const m of reader.readMessages({ validateCrcs: true })) {
        const topic = reader.channelsById.get(m.channelId)!.topic;
        channels[topic].messages++;
        messages++;
        if (start < 0n || m.logTime < start) start = m.logTime;
        if (m.logTime > last) last = m.logTime;
        onMessage?.(topic, m.logTime, m.data);
      }
      // file order: the stream reader sees records as written
      const stream = new McapStreamReader({ validateCrcs: true });
      stream.append(new Uint8Array(fs.readFileSync(file)));
      let prev = -1n;
      for (let r; (r = stream.nextRecord()); )
        if (r.type === "Message") {
          if (r.logTime < prev) monotonic = false;
          prev = r.logTime;
        }
    } catch (e) {
      throw new ScdError(`${file}: corrupt MCAP data (${(e as Error).message})`, "corrupt-file");
    }
    const metadata: McapSummary["metadata"] = {};
    for await (const md of reader.readMetadata()) metadata[md.name] = Object.fromEntries(md.metadata);
    return { channels, messages, monotonic, startNs: start, endNs: last, metadata };
  } finally {
    await fh.close();
  }
}
