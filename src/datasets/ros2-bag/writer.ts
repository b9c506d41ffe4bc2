/**
 * Writing ROS 2 bags: MCAP with the `ros2` profile, one `ros2msg` schema per message type (the ROS 2 `.msg` text and
 * its dependencies, src/datasets/ros-messages.ts), `cdr` channels carrying `offered_qos_profiles` (the YAML list
 * rosbag2 writes; numeric enums as Humble writes them, which later releases read too), messages serialised as
 * XCDR1 little-endian. That is the layout `ros2 bag record -s mcap` writes, and what `ros2 bag` and Foxglove read.
 * A bag directory adds rosbag2's metadata.yaml (version 5: read by Humble and every later release).
 * Files are written as "<file>.partial" and renamed when complete: a bag on disk is always whole.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { McapWriter } from "@mcap/core";
import { FileHandleWritable } from "@mcap/nodejs";
import { stringify as toYaml } from "yaml";
import { cdrCodec, msgSchemaText, parseRosType } from "../ros-messages.ts";
import { ensureParent } from "../../util/outputs.ts";

/** A topic's QoS as a ROS 2 publisher offers it (rclpy's names); unset fields take ROS 2's defaults (keep_last 10, reliable, volatile). */
export interface Qos {
  reliability?: "reliable" | "best_effort";
  durability?: "volatile" | "transient_local";
  history?: "keep_last" | "keep_all";
  depth?: number;
}

const ZERO = { sec: 0, nsec: 0 };

/** The `offered_qos_profiles` string of a channel: a YAML list of one profile, rmw's numeric enums (rmw/types.h). */
export function offeredQosYaml(q: Qos = {}): string {
  return toYaml([{
    history: q.history === "keep_all" ? 2 : 1,
    depth: q.depth ?? 10,
    reliability: q.reliability === "best_effort" ? 2 : 1,
    durability: q.durability === "transient_local" ? 1 : 2,
    deadline: ZERO,
    lifespan: ZERO,
    liveliness: 1,
    liveliness_lease_duration: ZERO,
    avoid_ros_namespace_conventions: false,
  }], { aliasDuplicateObjects: false });
}

/** ms since the Unix epoch → ns, exact to the ns (a float64 of ns since the epoch is not). */
export const msToNs = (ms: number): bigint => {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
};

/** Counts per topic, for metadata.yaml. */
interface TopicCount {
  type: string;
  qos: string;
  messages: number;
}

/** A ROS 2 bag being written: channels on first use, messages CDR-encoded; `close()` finishes and renames it. */
export class Ros2BagWriter {
  private readonly channels = new Map<string, number>();
  private readonly schemas = new Map<string, number>();
  private readonly seq = new Map<number, number>();
  readonly topics = new Map<string, TopicCount>();
  private chain: Promise<unknown> = Promise.resolve();
  private failure: unknown = null;
  startNs = -1n;
  endNs = 0n;
  messages = 0;

  private constructor(readonly file: string, private readonly fh: fs.promises.FileHandle, private readonly w: McapWriter) {}

  /** Start a bag at `file` (an .mcap file, written as `<file>.partial` until close). @throws on a file that cannot be created. */
  static async open(file: string, meta: Record<string, string> = {}): Promise<Ros2BagWriter> {
    const fh = await fs.promises.open(ensureParent(`${file}.partial`), "w");
    const w = new McapWriter({ writable: new FileHandleWritable(fh), chunkSize: 1 << 20 });
    await w.start({ profile: "ros2", library: "scd-policy" });
    if (Object.keys(meta).length) await w.addMetadata({ name: "scd", metadata: new Map(Object.entries(meta)) });
    return new Ros2BagWriter(file, fh, w);
  }

  private queue(f: () => Promise<unknown>): void {
    this.chain = this.chain.then(() => (this.failure ? undefined : f())).catch((e) => (this.failure ??= e));
  }

  /**
   * Append one message (rosbridge JSON layout of ROS 2) on `topic` at `timeNs` (ns since the Unix epoch); the write
   * lands later (close() waits). @throws ScdError at once when the type is unknown; encoding errors surface at close().
   */
  write(topic: string, type: string, timeNs: bigint, msg: unknown, qos?: Qos): void {
    const ros2 = parseRosType(type).ros2;
    const codec = cdrCodec(ros2);
    const had = this.topics.get(topic);
    if (had && had.type !== ros2) throw new Error(`bag topic ${topic} is ${had.type}, cannot also carry ${ros2}`);
    if (!had) this.topics.set(topic, { type: ros2, qos: offeredQosYaml(qos), messages: 0 });
    this.topics.get(topic)!.messages++;
    if (this.startNs < 0n || timeNs < this.startNs) this.startNs = timeNs; // MCAP indexes messages by time: any order is fine
    if (timeNs > this.endNs) this.endNs = timeNs;
    this.messages++;
    const data = codec.write(msg);
    this.queue(async () => {
      let id = this.channels.get(topic);
      if (id === undefined) {
        let sid = this.schemas.get(ros2);
        if (sid === undefined) {
          sid = await this.w.registerSchema({ name: ros2, encoding: "ros2msg", data: new TextEncoder().encode(msgSchemaText(ros2, 2)) });
          this.schemas.set(ros2, sid);
        }
        id = await this.w.registerChannel({ topic, schemaId: sid, messageEncoding: "cdr", metadata: new Map([["offered_qos_profiles", this.topics.get(topic)!.qos]]) });
        this.channels.set(topic, id);
      }
      const sequence = (this.seq.get(id) ?? 0) + 1;
      this.seq.set(id, sequence);
      await this.w.addMessage({ channelId: id, sequence, logTime: timeNs, publishTime: timeNs, data });
    });
  }

  /** Add a metadata record (name → string map); it lands in order with the messages. */
  addMetadata(name: string, record: Record<string, string>): void {
    this.queue(() => this.w.addMetadata({ name, metadata: new Map(Object.entries(record)) }));
  }

  /** Finish the file and name it `file`. @throws the first write or encoding error (the partial file is removed). */
  async close(): Promise<void> {
    await this.chain;
    try {
      if (this.failure) throw this.failure;
      await this.w.end();
      await this.fh.sync();
    } catch (e) {
      await this.fh.close().catch(() => {});
      fs.rmSync(`${this.file}.partial`, { force: true });
      throw e;
    }
    await this.fh.close();
    fs.renameSync(`${this.file}.partial`, this.file);
  }

  /** rosbag2's metadata.yaml for a bag directory holding this file as `rel` (version 5; counts and times from what was written). */
  metadataYaml(rel = path.basename(this.file)): string {
    const start = this.startNs < 0n ? 0n : this.startNs, duration = this.endNs - start;
    return toYaml({
      rosbag2_bagfile_information: {
        version: 5,
        storage_identifier: "mcap",
        duration: { nanoseconds: duration },
        starting_time: { nanoseconds_since_epoch: start },
        message_count: this.messages,
        topics_with_message_count: [...this.topics].map(([name, t]) => ({
          topic_metadata: { name, type: t.type, serialization_format: "cdr", offered_qos_profiles: t.qos },
          message_count: t.messages,
        })),
        compression_format: "",
        compression_mode: "",
        relative_file_paths: [rel],
        files: [{ path: rel, starting_time: { nanoseconds_since_epoch: start }, duration: { nanoseconds: duration }, message_count: this.messages }],
      },
    }, { aliasDuplicateObjects: false });
  }
}
