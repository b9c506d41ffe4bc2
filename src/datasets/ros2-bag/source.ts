/**
 * Opening recorded ROS data: a ROS 2 bag (an MCAP file with the `ros2` profile, or a rosbag2 directory: metadata.yaml
 * + its MCAP files, one recording even when split), a folder of such bags (one recording each), and ROS 1 (MCAP with
 * the `ros1` profile, or a `.bag` file through @foxglove/rosbag). Messages are decoded with the schema the bag
 * stores (CDR with ros2msg, ROS 1 serialisation with ros1msg), never with definitions of our own.
 * Sources: MCAP spec appendix (profiles, encodings); rosbag2's metadata.yaml (rosbag2_bagfile_information).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { McapIndexedReader } from "@mcap/core";
import { FileHandleReadable } from "@mcap/nodejs";
import { parse as parseMsg } from "@foxglove/rosmsg";
import { MessageReader as CdrReader } from "@foxglove/rosmsg2-serialization";
import { MessageReader as Ros1Reader } from "@foxglove/rosmsg-serialization";
import { parse as parseYaml } from "yaml";
import { ScdError } from "../../errors.ts";
import { toJson } from "../ros-messages.ts";

/** A topic of a recording: its type as the bag names it, how many messages, and the encodings. */
export interface TopicInfo {
  topic: string;
  type: string;
  messages: number;
  encoding: string;
  schemaEncoding: string;
}

/** One decoded message: its topic, the time it was logged (ns since the Unix epoch) and its fields (rosbridge-like JSON). */
export interface BagMessage {
  topic: string;
  logTimeNs: bigint;
  msg: Record<string, unknown>;
}

/** One recording (a bag): its files, topics, metadata records, and a reader of the chosen topics' messages in time order. */
export interface Recording {
  name: string;
  files: string[];
  topics: Map<string, TopicInfo>;
  metadata: Record<string, Record<string, string>>;
  read(topics: string[]): AsyncGenerator<BagMessage>;
}

const MCAP_MAGIC = Buffer.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);

/** The profile in an MCAP file's header record ("ros2", "ros1", ""), or null when the file is not MCAP. Reads 64 bytes. */
export function mcapProfile(file: string): string | null {
  const fd = fs.openSync(file, "r");
  try {
    const b = Buffer.alloc(64);
    const n = fs.readSync(fd, b, 0, 64, 0);
    if (n < 21 || !b.subarray(0, 8).equals(MCAP_MAGIC) || b[8] !== 0x01) return null;
    const len = b.readUInt32LE(17);
    return b.subarray(21, Math.min(n, 21 + len)).toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

const isRosBag1 = (file: string): boolean => {
  const fd = fs.openSync(file, "r");
  try {
    const b = Buffer.alloc(13);
    return fs.readSync(fd, b, 0, 13, 0) === 13 && b.toString("latin1") === "#ROSBAG V2.0\n";
  } finally {
    fs.closeSync(fd);
  }
};

/** A bag file: ROS 2 or ROS 1 MCAP, or a ROS 1 .bag. */
export const isBagFile = (p: string): boolean =>
  fs.statSync(p).isFile() && ((p.endsWith(".mcap") && ["ros2", "ros1"].includes(mcapProfile(p) ?? "")) || (p.endsWith(".bag") && isRosBag1(p)));
const isBagDir = (p: string): boolean => fs.statSync(p).isDirectory() && fs.existsSync(path.join(p, "metadata.yaml"));

/** Whether `p` is a bag, a bag directory or a folder holding bags (what this format reads). */
export function recognizesBag(p: string): boolean {
  try {
    if (isBagDir(p)) return true;
    if (fs.statSync(p).isFile()) return isBagFile(p);
    return fs.readdirSync(p).some((e) => { const q = path.join(p, e); return isBagDir(q) || isBagFile(q); });
  } catch {
    return false;
  }
}

/** The MCAP files of a rosbag2 directory, from its metadata.yaml. @throws ScdError naming the file and field. */
function bagDirFiles(dir: string): string[] {
  const meta = path.join(dir, "metadata.yaml");
  let info: Record<string, unknown>;
  try {
    info = (parseYaml(fs.readFileSync(meta, "utf8")) as Record<string, Record<string, unknown>>)?.rosbag2_bagfile_information;
  } catch (e) {
    throw new ScdError(`${meta}: not valid YAML (${(e as Error).message})`, "corrupt-file");
  }
  if (!info || typeof info !== "object") throw new ScdError(`${meta}: no rosbag2_bagfile_information (not a rosbag2 metadata file)`, "corrupt-file");
  const storage = info.storage_identifier;
  if (storage !== "mcap") throw new ScdError(`${meta}: storage_identifier is ${JSON.stringify(storage)}; scd reads MCAP bags (record with \`ros2 bag record -s mcap\`, or \`ros2 bag convert\` a ${storage} bag)`, "incompatible");
  const rel = info.relative_file_paths;
  if (!Array.isArray(rel) || !rel.length) throw new ScdError(`${meta}: relative_file_paths is ${JSON.stringify(rel)}, expected a list of .mcap files`, "corrupt-file");
  return rel.map((r) => {
    const f = path.join(dir, String(r));
    if (!fs.existsSync(f)) {
      const base = path.join(dir, path.basename(String(r))); // rosbag2 ≤ Foxy wrote paths with the bag's folder name
      if (fs.existsSync(base)) return base;
      throw new ScdError(`${meta}: relative_file_paths names ${r}, which is missing`, "missing-file");
    }
    return f;
  });
}

/** Every recording at `p`: a bag file or directory is one; a folder of bags gives one per bag, sorted by name. @throws ScdError when none is there. */
export async function openRecordings(p: string): Promise<Recording[]> {
  if (!fs.existsSync(p)) throw new ScdError(`${p}: no such file or directory`, "missing-file");
  if (isBagDir(p)) return [await openFiles(path.basename(p), bagDirFiles(p))];
  if (fs.statSync(p).isFile()) return [await openFiles(path.basename(p), [p])];
  const entries = fs.readdirSync(p).sort().map((e) => path.join(p, e)).filter((q) => isBagDir(q) || isBagFile(q));
  if (!entries.length) throw new ScdError(`${p}: holds no ROS bag (a .mcap with the ros2 or ros1 profile, a .bag, or a folder with metadata.yaml)`, "missing-file");
  const out: Recording[] = [];
  for (const q of entries) out.push(...(await openRecordings(q)));
  return out;
}

type Decode = (data: Uint8Array) => Record<string, unknown>;

interface FilePart {
  topics: Map<string, TopicInfo>;
  metadata: Record<string, Record<string, string>>;
  read(topics: string[], decoders: Map<string, Decode>): AsyncGenerator<BagMessage>;
  decoder(topic: string): Decode;
}

async function openFiles(name: string, files: string[]): Promise<Recording> {
  const parts: FilePart[] = [];
  for (const f of files) parts.push(f.endsWith(".bag") ? await openRos1Bag(f) : await openMcap(f));
  const topics = new Map<string, TopicInfo>();
  for (const part of parts)
    for (const [t, i] of part.topics) {
      const had = topics.get(t);
      if (had) had.messages += i.messages;
      else topics.set(t, { ...i });
    }
  return {
    name,
    files,
    topics,
    metadata: Object.assign({}, ...parts.map((q) => q.metadata)),
    async *read(want) {
      for (const part of parts) {
        const here = want.filter((t) => part.topics.has(t));
        const decoders = new Map(here.map((t) => [t, part.decoder(t)] as const));
        yield* part.read(here, decoders);
      }
    },
  };
}

/** A decoder for messages of a schema, from the schema text the bag stores. @throws ScdError naming the file, topic and encodings when scd cannot decode them. */
function decoderFor(file: string, topic: string, schemaName: string, schemaEncoding: string, encoding: string, data: Uint8Array): Decode {
  const text = new TextDecoder().decode(data);
  try {
    if (encoding === "cdr" && schemaEncoding === "ros2msg") {
      const r = new CdrReader(parseMsg(text, { ros2: true }), { timeType: "sec,nanosec" });
      return (d) => toJson(r.readMessage(d)) as Record<string, unknown>;
    }
    if (encoding === "ros1" && (schemaEncoding === "ros1msg" || schemaEncoding === "ros1")) {
      const r = new Ros1Reader(parseMsg(text));
      return (d) => toJson(r.readMessage(d)) as Record<string, unknown>;
    }
  } catch (e) {
    throw new ScdError(`${file}: topic ${topic}: its schema ${schemaName} (${schemaEncoding}) does not parse (${(e as Error).message})`, "corrupt-file");
  }
  throw new ScdError(`${file}: topic ${topic} has schema ${JSON.stringify(schemaName)} in encoding ${JSON.stringify(schemaEncoding)} with ${JSON.stringify(encoding)} messages; scd reads cdr messages with ros2msg schemas (ROS 2) and ros1 messages with ros1msg schemas (ROS 1)`, "incompatible");
}

async function openMcap(file: string): Promise<FilePart> {
  const fh = await fs.promises.open(file, "r");
  let reader: McapIndexedReader;
  try {
    reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(fh) });
  } catch (e) {
    await fh.close();
    throw new ScdError(`${file}: not a readable MCAP bag, truncated or corrupt (${(e as Error).message}; ${fs.statSync(file).size} bytes)`, "corrupt-file");
  }
  const counts = reader.statistics?.channelMessageCounts;
  const topics = new Map<string, TopicInfo>();
  const byTopic = new Map<string, { schemaName: string; schemaEncoding: string; encoding: string; data: Uint8Array }>();
  for (const c of reader.channelsById.values()) {
    const s = reader.schemasById.get(c.schemaId);
    const info = { topic: c.topic, type: s?.name ?? "", messages: Number(counts?.get(c.id) ?? 0n), encoding: c.messageEncoding, schemaEncoding: s?.encoding ?? "" };
    const had = topics.get(c.topic);
    if (had) had.messages += info.messages;
    else topics.set(c.topic, info);
    byTopic.set(c.topic, { schemaName: info.type, schemaEncoding: info.schemaEncoding, encoding: c.messageEncoding, data: s?.data ?? new Uint8Array() });
  }
  const metadata: Record<string, Record<string, string>> = {};
  for await (const md of reader.readMetadata()) metadata[md.name] = Object.fromEntries(md.metadata);
  return {
    topics,
    metadata,
    decoder: (t) => { const b = byTopic.get(t)!; return decoderFor(file, t, b.schemaName, b.schemaEncoding, b.encoding, b.data); },
    async *read(want, decoders) {
      if (!want.length) return;
      try {
        for await (const m of reader.readMessages({ topics: want, validateCrcs: true })) {
          const topic = reader.channelsById.get(m.channelId)!.topic;
          let msg: Record<string, unknown>;
          try {
            msg = decoders.get(topic)!(m.data);
          } catch (e) {
            throw new ScdError(`${file}: a ${topics.get(topic)!.type} message on ${topic} at ${m.logTime} ns does not decode with the bag's own schema (${(e as Error).message})`, "corrupt-file");
          }
          yield { topic, logTimeNs: m.logTime, msg };
        }
      } catch (e) {
        if (e instanceof ScdError) throw e;
        throw new ScdError(`${file}: corrupt MCAP data (${(e as Error).message})`, "corrupt-file");
      } finally {
        await fh.close().catch(() => {});
      }
    },
  };
}

async function openRos1Bag(file: string): Promise<FilePart> {
  // loaded only for .bag files; "node.js" spelled out: the package has no exports map, and Node's ESM resolver adds no extension
  const [{ Bag }, { FileReader }] = await Promise.all([import("@foxglove/rosbag"), import("@foxglove/rosbag/node.js")]);
  const bag = new Bag(new FileReader(file));
  try {
    await bag.open();
  } catch (e) {
    throw new ScdError(`${file}: not a readable ROS 1 bag, truncated or corrupt (${(e as Error).message})`, "corrupt-file");
  }
  const topics = new Map<string, TopicInfo>();
  const conns = [...bag.connections.values()];
  for (const c of conns) {
    const n = bag.chunkInfos.reduce((a, ci) => a + (ci.connections.find((x) => x.conn === c.conn)?.count ?? 0), 0);
    const had = topics.get(c.topic);
    if (had) had.messages += n;
    else topics.set(c.topic, { topic: c.topic, type: c.type ?? "", messages: n, encoding: "ros1", schemaEncoding: "ros1msg" });
  }
  return {
    topics,
    metadata: {},
    decoder: (t) => { const c = conns.find((x) => x.topic === t)!; return decoderFor(file, t, c.type ?? "", "ros1msg", "ros1", new TextEncoder().encode(c.messageDefinition)); },
    async *read(want, decoders) {
      if (!want.length) return;
      try {
        for await (const m of bag.messageIterator({ topics: want })) {
          const topic = bag.connections.get(m.connectionId)!.topic;
          yield { topic, logTimeNs: BigInt(m.timestamp.sec) * 1_000_000_000n + BigInt(m.timestamp.nsec), msg: decoders.get(topic)!(m.data) };
        }
      } catch (e) {
        if (e instanceof ScdError) throw e;
        throw new ScdError(`${file}: corrupt ROS 1 bag data (${(e as Error).message}; compressed bags need \`rosbag decompress\` first)`, "corrupt-file");
      }
    },
  };
}
