/**
 * A control loop's log as a ROS 2 bag (`--record out.mcap --profile ros2` on eval and run). Per tick, each
 * observation feature and the executed action go out as ROS 2 messages: on the topic map's topics with its types
 * and field paths when one is given (`RecorderInfo.meta.topicMap`; stamped headers carry the tick time), else as
 *   /observation/<feature>  std_msgs/msg/Float32MultiArray   (layout.dim[0].label = the feature; characters a ROS
 *                           name cannot hold become "_", and the "scd_topics" metadata record maps topics back)
 *   /action                 std_msgs/msg/Float32MultiArray
 * and always
 *   /scd/fallback           std_msgs/msg/Bool     per tick: the action was the loop's safe fallback
 *   /scd/episode            std_msgs/msg/Bool     true at an episode's first tick, false after its last
 *   /policy/chunk           std_msgs/msg/Float32MultiArray   per chunk, layout [horizon, action]
 *   /loop/event             std_msgs/msg/String   misses and errors, as JSON
 * The bag's "scd" metadata record holds the env, the period (ms) and the topic map, so `scd dataset import` reads
 * it back without a map.
 */
import type { LogRecorder, RecorderInfo } from "../formats.ts";
import type { LoopEvent } from "../events.ts";
import type { Obs } from "../../spaces.ts";
import { ScdError } from "../../errors.ts";
import { encodeFields, type MessageField } from "../ros-fields.ts";
import { parseRosType } from "../ros-messages.ts";
import { Ros2BagWriter, msToNs as ns, type Qos } from "./writer.ts";

/** Where one feature goes: topic, ROS type (either spelling; written as ROS 2), fields and the QoS offered. */
export interface PlanBinding {
  topic: string;
  type: string;
  fields: MessageField[];
  qos?: Qos;
}

/** The topic map's part a recorder uses. */
export interface RecordPlan {
  observations: (PlanBinding & { feature: string })[];
  action: PlanBinding;
}

const FLOATS = "std_msgs/msg/Float32MultiArray";
/** A feature name as a ROS graph name token (letters, digits, "_"; not starting with a digit): "observation.state" → "observation_state". */
export const rosToken = (name: string): string => name.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(?=[0-9])/, "f_");
const multiArray = (data: ArrayLike<number>, dims: [string, number][]) => {
  let stride = dims.reduce((a, [, n]) => a * n, 1);
  const dim = dims.map(([label, size]) => { const d = { label, size, stride }; stride /= Math.max(1, size); return d; });
  return { layout: { dim, data_offset: 0 }, data: Array.from(data) };
};

/** The plan in `meta.topicMap`, checked for the fields a recorder reads. @throws ScdError naming what is missing. */
export function planFrom(raw: unknown): RecordPlan | null {
  if (raw === undefined || raw === null) return null;
  const m = raw as RecordPlan;
  const ok = (b: PlanBinding | undefined) => !!b && typeof b.topic === "string" && typeof b.type === "string" && Array.isArray(b.fields);
  if (!Array.isArray(m.observations) || !m.observations.every(ok) || !ok(m.action)) throw new ScdError(`ros2 bag recorder: the topic map needs observations[] and action with topic, type and fields`);
  for (const b of [...m.observations, m.action]) parseRosType(b.type);
  return m;
}

/** A {@link LogRecorder} writing a ROS 2 bag (see the module comment for its topics). */
export class Ros2BagRecorder implements LogRecorder {
  private episode = -1;
  private lastMs = 0;
  private readonly obsTopics = new Map<string, string>();

  private constructor(private readonly bag: Ros2BagWriter, private readonly info: RecorderInfo, private readonly plan: RecordPlan | null) {}

  /** Open a bag at `file` (.mcap). @throws ScdError for a bad topic map in `info.meta.topicMap`; a file that cannot be created. */
  static async open(file: string, info: RecorderInfo): Promise<Ros2BagRecorder> {
    const plan = planFrom(info.meta?.topicMap);
    const meta = { env: info.env ?? "", period_ms: String(info.periodMs), ...Object.fromEntries(Object.entries(info.meta ?? {}).map(([k, v]) => [k === "topicMap" ? "topic_map" : k, typeof v === "string" ? v : JSON.stringify(v)])) };
    return new Ros2BagRecorder(await Ros2BagWriter.open(file, meta), info, plan);
  }

  private feature(name: string, timeMs: number, v: ArrayLike<number>): void {
    const b = this.plan?.observations.find((o) => o.feature === name);
    if (b) this.bag.write(b.topic, b.type, ns(timeMs), encodeFields(b.type, 2, b.fields, v, timeMs), b.qos);
    else if (!this.plan) {
      const topic = `/observation/${rosToken(name)}`;
      const had = [...this.obsTopics].find(([, t]) => t === topic);
      if (had && had[0] !== name) throw new ScdError(`features "${had[0]}" and "${name}" would share the bag topic ${topic}`);
      this.obsTopics.set(name, topic);
      this.bag.write(topic, FLOATS, ns(timeMs), multiArray(v, [[name, v.length]]));
    }
  }

  tick(timeMs: number, episode: number, _tick: number, obs: Obs, action: ArrayLike<number>, fallback: boolean): void {
    if (episode !== this.episode) {
      if (this.episode >= 0) this.bag.write("/scd/episode", "std_msgs/msg/Bool", ns(this.lastMs), { data: false });
      this.bag.write("/scd/episode", "std_msgs/msg/Bool", ns(timeMs), { data: true });
      this.episode = episode;
    }
    this.lastMs = timeMs;
    for (const [name, v] of Object.entries(obs)) this.feature(name, timeMs, v);
    const a = this.plan?.action;
    if (a) this.bag.write(a.topic, a.type, ns(timeMs), encodeFields(a.type, 2, a.fields, action, timeMs), a.qos);
    else this.bag.write("/action", FLOATS, ns(timeMs), multiArray(action, [["action", action.length]]));
    this.bag.write("/scd/fallback", "std_msgs/msg/Bool", ns(timeMs), { data: fallback });
  }

  event(timeMs: number, episode: number, e: LoopEvent): void {
    if (e.type === "inference" && e.chunk) {
      const A = Math.max(1, this.info.actionDim);
      this.bag.write("/policy/chunk", FLOATS, ns(timeMs), multiArray(e.chunk, [["horizon", e.chunk.length / A], ["action", A]]));
    } else if (e.type === "miss" || e.type === "error") this.bag.write("/loop/event", "std_msgs/msg/String", ns(timeMs), { data: JSON.stringify({ episode, tick: e.tick, type: e.type, reason: e.reason }) });
  }

  /** rosbag2's metadata.yaml for a bag directory holding this bag as `rel` (after close). */
  metadataYaml(rel: string): string {
    return this.bag.metadataYaml(rel);
  }

  /** Mark the last episode's end, finish the bag and rename it into place. @throws the first write error. */
  async close(): Promise<void> {
    if (this.episode >= 0) this.bag.write("/scd/episode", "std_msgs/msg/Bool", ns(this.lastMs + this.info.periodMs / 2), { data: false });
    this.episode = -1;
    if (this.obsTopics.size) this.bag.addMetadata("scd_topics", Object.fromEntries([...this.obsTopics].map(([f, t]) => [t, f])));
    await this.bag.close();
  }
}
