/**
 * The topic map (JSON, validated): which ROS topics feed which observation features, and where actions go.
 * Values are read and written by dotted field paths ("linear.x", "pose.position.y", "data", "points.0.positions");
 * a path that ends at a number array takes or fills a slice of the feature (`indices` picks elements).
 * Type names in ROS 1 (`geometry_msgs/Twist`) or ROS 2 (`geometry_msgs/msg/Twist`) spelling, one of them per map:
 * the spelling says which message layouts the bridge speaks (ROS 2: `builtin_interfaces/Time` stamps
 * `{sec, nanosec}`, no header `seq`). For `scd record` and bag import: `rateHz`, an `episodes` marker topic and
 * `stamp`; per topic a ROS 2 `qos` (sent in rosbridge's subscribe/advertise ops, written into bags).
 */
import * as fs from "node:fs";
import { z } from "zod";
import { ScdError } from "../errors.ts";

/** The message types a map may name for observations and actions (ROS 1 spelling; `pkg/msg/Name` is their ROS 2 one). */
export const SUPPORTED_TYPES = [
  "sensor_msgs/JointState", "geometry_msgs/Point", "geometry_msgs/Pose", "geometry_msgs/PoseStamped", "geometry_msgs/Twist",
  "std_msgs/Float32MultiArray", "std_msgs/Float64MultiArray", "trajectory_msgs/JointTrajectory",
] as const;
/** Every accepted spelling: ROS 1 names, then ROS 2 names. */
export const SUPPORTED_TYPE_NAMES: readonly string[] = [...SUPPORTED_TYPES, ...SUPPORTED_TYPES.map((t) => t.replace("/", "/msg/"))];
const MARKER_TYPES = ["std_msgs/Bool", "std_msgs/String", "std_msgs/msg/Bool", "std_msgs/msg/String"] as const;

const Field = z.object({ path: z.string().min(1), indices: z.array(z.number().int().nonnegative()).optional(), length: z.number().int().positive().optional() });
/** A ROS 2 QoS profile as rosbridge's `qos` object takes it (rclpy's policy names). */
export const QosSchema = z.object({
  reliability: z.enum(["reliable", "best_effort"]).optional(),
  durability: z.enum(["volatile", "transient_local"]).optional(),
  history: z.enum(["keep_last", "keep_all"]).optional(),
  depth: z.number().int().nonnegative().optional(),
}).strict();
const Binding = z.object({
  topic: z.string().startsWith("/"),
  type: z.string().refine((t) => SUPPORTED_TYPE_NAMES.includes(t), { message: `must be one of ${SUPPORTED_TYPES.join(", ")} (or their ROS 2 spelling pkg/msg/Name)` }),
  fields: z.array(z.union([z.string().min(1).transform((path) => ({ path })), Field])).min(1),
  qos: QosSchema.optional(),
});

/** The schema of a topic map file (zod). */
export const TopicMapSchema = z.object({
  observations: z.array(Binding.extend({ feature: z.string().min(1), low: z.array(z.number()).optional(), high: z.array(z.number()).optional() })).min(1),
  action: Binding.extend({ low: z.array(z.number()), high: z.array(z.number()) }),
  /** Observations older than this (per topic) are stale: the loop falls back. */
  maxAgeMs: z.number().positive().default(500),
  /** Array fields longer than this are malformed (guards against oversized messages). */
  maxArrayLength: z.number().int().positive().default(1024),
  resetService: z.object({ name: z.string().startsWith("/"), type: z.string() }).optional(),
  throttleMs: z.number().int().nonnegative().default(0),
  /** Control ticks per second of recorded demonstrations (scd record, bag import); default: the bag's, else 10. */
  rateHz: z.number().positive().max(10_000).optional(),
  /** Episodes start and stop on this topic (std_msgs Bool `data` true/false, or String "start"/"stop"). */
  episodes: z.object({ topic: z.string().startsWith("/"), type: z.enum(MARKER_TYPES).default("std_msgs/Bool") }).optional(),
  /** Sample times of imported bags: when logged ("log") or the message's header.stamp ("header"). */
  stamp: z.enum(["log", "header"]).default("log"),
});
/** A topic map: observation features ← topics and the action → a topic, by dotted field paths. */
export type TopicMap = z.infer<typeof TopicMapSchema>;
export type FieldSpec = z.infer<typeof Field>;

/** Validate a topic map object. @throws ScdError naming `where` and the first invalid field, a feature mapped twice, or action bounds of the wrong size. */
export function parseTopicMap(raw: unknown, where: string): TopicMap {
  const r = TopicMapSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ScdError(`${where}: invalid topic map: ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  const m = r.data;
  const names = new Set<string>();
  for (const o of m.observations) {
    if (names.has(o.feature)) throw new ScdError(`${where}: feature "${o.feature}" is mapped twice`);
    names.add(o.feature);
  }
  const versions = new Set([...m.observations, m.action].map((b) => rosVersionOf(b.type)));
  if (m.episodes) versions.add(rosVersionOf(m.episodes.type));
  if (versions.size > 1) throw new ScdError(`${where}: mixes ROS 1 type names (pkg/Name) and ROS 2 ones (pkg/msg/Name); use one spelling: it says which message layouts the bridge speaks`);
  const dim = fieldsDim(m.action.fields);
  if (dim !== null && (m.action.low.length !== dim || m.action.high.length !== dim)) throw new ScdError(`${where}: action.low/high must have ${dim} values (one per action field), got ${m.action.low.length}/${m.action.high.length}`);
  return m;
}

/** 2 for a ROS 2 type name (`pkg/msg/Name`), else 1. */
export const rosVersionOf = (type: string): 1 | 2 => (type.includes("/msg/") ? 2 : 1);
/** The ROS version a validated map speaks (all its type names share one spelling). */
export const mapRosVersion = (map: TopicMap): 1 | 2 => rosVersionOf(map.action.type);

/** Read and validate a topic map file (JSON). @throws ScdError naming the file when it is missing, not JSON or invalid. */
export function loadTopicMap(file: string): TopicMap {
  if (!fs.existsSync(file)) throw new ScdError(`${file}: no such topic map file`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ScdError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseTopicMap(raw, file);
}

/** Number of values the fields produce, or null when an array field has no declared length. */
export function fieldsDim(fields: FieldSpec[]): number | null {
  let n = 0;
  for (const f of fields) {
    const k = f.indices?.length ?? f.length ?? (isArrayPath(f.path) ? null : 1);
    if (k === null) return null;
    n += k;
  }
  return n;
}

const ARRAY_LEAVES = new Set(["data", "position", "velocity", "effort", "positions", "velocities", "accelerations"]);
export const isArrayPath = (p: string): boolean => ARRAY_LEAVES.has(p.split(".").at(-1)!);

/**
 * The topic map must give every observation feature as many values as the policy was trained on, and take as
 * many action values as the policy produces; otherwise values would be dropped or read as NaN at every tick.
 * @param policy `featureDims` (values per feature, when the policy declares them) and `actionDim`.
 * @throws ScdError naming the map file, the feature or action fields, and both sizes.
 */
export function checkMapAgainstPolicy(map: TopicMap, policy: { featureDims?: Readonly<Record<string, number>>; actionDim: number }, where: string): void {
  for (const o of map.observations) {
    const want = policy.featureDims?.[o.feature];
    if (want === undefined) continue;
    const got = fieldsDim(o.fields);
    if (got === null) throw new ScdError(`topic map ${where}: ${o.feature} reads an array field with no declared length; add "length": ${want} (the policy was trained on ${want} values)`);
    if (got !== want) throw new ScdError(`topic map ${where}: ${o.feature} gives ${got} values (${o.fields.map((f) => f.path).join(", ")}), the policy was trained on ${want}`);
    for (const [k, b] of [["low", o.low], ["high", o.high]] as const)
      if (b && b.length !== want) throw new ScdError(`topic map ${where}: ${o.feature}.${k} has ${b.length} values, the policy was trained on ${want}`);
  }
  const got = fieldsDim(map.action.fields) ?? map.action.low.length;
  if (got !== policy.actionDim) throw new ScdError(`topic map ${where}: action gives ${got} values (${map.action.fields.map((f) => f.path).join(", ")}), the policy produces ${policy.actionDim}`);
}
