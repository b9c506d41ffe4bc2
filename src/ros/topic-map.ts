/**
 * The topic map (JSON, validated): which ROS topics feed which observation features, and where actions go.
 * Values are read and written by dotted field paths ("linear.x", "pose.position.y", "data", "points.0.positions");
 * a path that ends at a number array takes or fills a slice of the feature (`indices` picks elements).
 * Type names in ROS 1 (`geometry_msgs/Twist`) or ROS 2 (`geometry_msgs/msg/Twist`) spelling, one of them per map:
 * the spelling says which message layouts the bridge speaks (ROS 2: `builtin_interfaces/Time` stamps
 * `{sec, nanosec}`, no header `seq`). For `scd record` and bag import: `rateHz`, an `episodes` marker topic and
 * `stamp`; per topic a ROS 2 `qos` (sent in rosbridge's subscribe/advertise ops, written into bags).
 * A feature may come from several topics: each binding then gives its `offset` and the slices tile the feature.
 * A field may pick joints by `names` (JointState `name`, JointTrajectory `joint_names`: any order, extra joints
 * ignored; published with those names) or read a quaternion `as` its yaw (rad) or `cos_sin_yaw` [cos kψ, sin kψ]
 * (k = `symmetry`); `set` writes constant fields into published messages (a command's height, a frame_id).
 */
import * as fs from "node:fs";
import { z } from "zod";
import { ScdError } from "../errors.ts";
import { encodeAction, fieldDim, isArrayPath } from "./codec.ts";

/** The message types a map may name for observations and actions (ROS 1 spelling; `pkg/msg/Name` is their ROS 2 one). */
export const SUPPORTED_TYPES = [
  "sensor_msgs/JointState", "geometry_msgs/Point", "geometry_msgs/Pose", "geometry_msgs/PoseStamped", "geometry_msgs/Twist",
  "std_msgs/Float32MultiArray", "std_msgs/Float64MultiArray", "trajectory_msgs/JointTrajectory",
] as const;
/** Every accepted spelling: ROS 1 names, then ROS 2 names. */
export const SUPPORTED_TYPE_NAMES: readonly string[] = [...SUPPORTED_TYPES, ...SUPPORTED_TYPES.map((t) => t.replace("/", "/msg/"))];
const MARKER_TYPES = ["std_msgs/Bool", "std_msgs/String", "std_msgs/msg/Bool", "std_msgs/msg/String"] as const;

const Field = z.object({
  path: z.string().min(1), indices: z.array(z.number().int().nonnegative()).optional(), length: z.number().int().positive().optional(),
  /** Joint names picked from the message's name list (JointState `name`, JointTrajectory `joint_names`), in this order. */
  names: z.array(z.string().min(1)).min(1).optional(),
  /** The path ends at a quaternion: read it as its yaw about z (rad) or as [cos kψ, sin kψ] with k = `symmetry`. */
  as: z.enum(["yaw", "cos_sin_yaw"]).optional(),
  /** The object looks the same every 1/k turn (a cube: 4): the yaw is folded to (−π/k, π/k]. */
  symmetry: z.number().int().positive().optional(),
});
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
  fields: z.array(z.union([z.string().min(1).transform((path): z.infer<typeof Field> => ({ path })), Field])).min(1),
  qos: QosSchema.optional(),
  /** Constant fields written into every message published on this topic (dotted path → number or string). */
  set: z.record(z.string().min(1), z.union([z.number(), z.string()])).optional(),
});

/** The schema of a topic map file (zod). */
export const TopicMapSchema = z.object({
  observations: z.array(Binding.extend({
    feature: z.string().min(1), low: z.array(z.number()).optional(), high: z.array(z.number()).optional(),
    /** Where this topic's values start in the feature, when the feature comes from several topics. */
    offset: z.number().int().nonnegative().optional(),
  })).min(1),
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
  checkFields(m, where);
  featureLayout(m, where);
  const versions = new Set([...m.observations, m.action].map((b) => rosVersionOf(b.type)));
  if (m.episodes) versions.add(rosVersionOf(m.episodes.type));
  if (versions.size > 1) throw new ScdError(`${where}: mixes ROS 1 type names (pkg/Name) and ROS 2 ones (pkg/msg/Name); use one spelling: it says which message layouts the bridge speaks`);
  const dim = fieldsDim(m.action.fields);
  if (dim !== null && (m.action.low.length !== dim || m.action.high.length !== dim)) throw new ScdError(`${where}: action.low/high must have ${dim} values (one per action field), got ${m.action.low.length}/${m.action.high.length}`);
  probeEncode(m, where);
  return m;
}

/** Options that only go together: names on an array, as with no indices/length, symmetry with as, one names list per message. */
function checkFields(m: TopicMap, where: string): void {
  for (const [name, b] of bindings(m)) {
    const lists = new Set<string>();
    b.fields.forEach((f, j) => {
      const at = `${where}: ${name}.fields[${j}] ("${f.path}")`;
      if (f.names && (f.indices || f.length || f.as || !isArrayPath(f.path))) throw new ScdError(`${at}: "names" picks joints from an array field (position, velocity, effort, positions, …) and goes without indices, length or as`);
      if (f.as && (f.indices || f.length)) throw new ScdError(`${at}: "as": "${f.as}" reads a quaternion; it goes without indices or length`);
      if (f.symmetry !== undefined && !f.as) throw new ScdError(`${at}: "symmetry" goes with "as": "yaw" or "cos_sin_yaw"`);
      if (f.names) lists.add(f.names.join("\u0000"));
    });
    if (lists.size > 1) throw new ScdError(`${where}: ${name}: its fields name different joint lists; a message has one`);
  }
}

/** Every binding with its place in the map ("observations[2]", "action"). */
const bindings = (m: TopicMap): [string, TopicMap["action"] | TopicMap["observations"][number]][] => [...m.observations.map((o, i) => [`observations[${i}]`, o] as [string, typeof o]), ["action", m.action]];

/** Encode a message of zeros for every binding, so a path its type lacks is refused now, not at the first message. */
function probeEncode(m: TopicMap, where: string): void {
  for (const [name, b] of bindings(m)) {
    try {
      encodeAction(b.type, b.fields, new Array(fieldsDim(b.fields) ?? 1).fill(0), 0, b.set);
    } catch (e) {
      if (e instanceof ScdError) throw new ScdError(`${where}: ${name} (${b.type} on ${b.topic}): ${e.message}`);
      throw e;
    }
  }
}

/** One feature's place in a map: its size (null: an array of undeclared length) and the bindings that give it. */
export interface FeaturePart { index: number; offset: number; dim: number | null }

/**
 * Where each observation feature comes from: one binding, or several tiling it by `offset`.
 * @throws ScdError (naming `where`) for a feature mapped twice without offsets, or offsets that leave a gap or overlap.
 */
export function featureLayout(m: Pick<TopicMap, "observations">, where = "topic map"): Map<string, { dim: number | null; parts: FeaturePart[] }> {
  const out = new Map<string, { dim: number | null; parts: FeaturePart[] }>();
  m.observations.forEach((o, index) => {
    const e = out.get(o.feature) ?? { dim: 0, parts: [] };
    e.parts.push({ index, offset: o.offset ?? 0, dim: fieldsDim(o.fields) });
    out.set(o.feature, e);
  });
  for (const [f, e] of out) {
    if (e.parts.length === 1) {
      const p = e.parts[0];
      if (p.offset !== 0) throw new ScdError(`${where}: observations[${p.index}].offset is ${p.offset}, but "${f}" comes from this topic alone (offset 0)`);
      e.dim = p.dim;
      continue;
    }
    if (e.parts.some((p) => m.observations[p.index].offset === undefined)) throw new ScdError(`${where}: feature "${f}" is mapped twice; to build it from several topics give each binding its "offset" in the feature`);
    e.parts.sort((a, b) => a.offset - b.offset);
    let at = 0;
    for (const p of e.parts) {
      if (p.dim === null) throw new ScdError(`${where}: observations[${p.index}] reads an array field with no declared length; a feature from several topics needs "length" or "names"`);
      if (p.offset !== at) throw new ScdError(`${where}: observations[${p.index}].offset is ${p.offset}, but "${f}"'s earlier topics end at ${at} (${p.offset > at ? "a gap" : "an overlap"})`);
      at += p.dim;
    }
    e.dim = at;
  }
  return out;
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
    const k = fieldDim(f);
    if (k === null) return null;
    n += k;
  }
  return n;
}

export { isArrayPath };

/**
 * The topic map must give every observation feature as many values as the policy was trained on, and take as
 * many action values as the policy produces; otherwise values would be dropped or read as NaN at every tick.
 * @param policy `featureDims` (values per feature, when the policy declares them) and `actionDim`.
 * @param whose who declares the sizes, for the messages (default: the policy).
 * @throws ScdError naming the map file, the feature or action fields, and both sizes.
 */
export function checkMapAgainstPolicy(map: TopicMap, policy: { featureDims?: Readonly<Record<string, number>>; actionDim: number }, where: string, whose: { has: string; produces: string } = { has: "the policy was trained on", produces: "the policy produces" }): void {
  for (const [feature, e] of featureLayout(map, `topic map ${where}`)) {
    const want = policy.featureDims?.[feature];
    if (want === undefined) continue;
    const bs = e.parts.map((p) => map.observations[p.index]);
    if (e.dim === null) throw new ScdError(`topic map ${where}: ${feature} reads an array field with no declared length; add "length": ${want} (${whose.has} ${want} values)`);
    if (e.dim !== want) throw new ScdError(`topic map ${where}: ${feature} gives ${e.dim} values (${bs.flatMap((o) => o.fields.map((f) => f.path)).join(", ")}), ${whose.has} ${want}`);
    for (const k of ["low", "high"] as const) {
      const n = bs.reduce((s, o, i) => s + (o[k]?.length ?? e.parts[i].dim ?? 0), 0);
      if (bs.some((o) => o[k]) && n !== want) throw new ScdError(`topic map ${where}: ${feature}.${k} has ${n} values, ${whose.has} ${want}`);
    }
  }
  const got = fieldsDim(map.action.fields) ?? map.action.low.length;
  if (got !== policy.actionDim) throw new ScdError(`topic map ${where}: action gives ${got} values (${map.action.fields.map((f) => f.path).join(", ")}), ${whose.produces} ${policy.actionDim}`);
}

/**
 * The map against the env a simulated robot (or a built-in policy) runs: every mapped feature is one of the env's
 * observations, with the env's size, and the action has the env's size (`sizes: false`: the feature names only).
 * @throws ScdError naming the map file, the binding's field and its value.
 */
export function checkMapAgainstEnv(map: TopicMap, env: { id: string; observationSpace: Record<string, { low: ArrayLike<number> }>; actionSpace: { low: ArrayLike<number> } }, where: string, opts: { sizes?: boolean } = {}): void {
  map.observations.forEach((o, i) => {
    if (!env.observationSpace[o.feature]) throw new ScdError(`topic map ${where}: observations[${i}].feature is "${o.feature}", which ${env.id} does not have (its observations: ${Object.keys(env.observationSpace).join(", ")})`);
  });
  if (opts.sizes === false) return;
  const featureDims = Object.fromEntries(Object.entries(env.observationSpace).map(([k, b]) => [k, b.low.length]));
  checkMapAgainstPolicy(map, { featureDims, actionDim: env.actionSpace.low.length }, where, { has: `${env.id} has`, produces: `${env.id} takes` });
}

/**
 * What a map uses beyond plain field paths ("features from several topics (offset)", "joint names", "yaw fields",
 * "constant fields (set)"): consumers that apply plain paths only (the ROS 2 bag recorder and bag import,
 * src/datasets/ros2-bag/) must refuse such a map rather than misplace its values. Empty for a plain map.
 */
export function mapExtensions(map: TopicMap): string[] {
  const bs = [...map.observations, map.action], fs = bs.flatMap((b) => b.fields);
  return [
    ...(map.observations.some((o) => o.offset !== undefined) ? ["features from several topics (offset)"] : []),
    ...(fs.some((f) => f.names) ? ["joints by name (names)"] : []),
    ...(fs.some((f) => f.as) ? ["quaternions as yaw (as)"] : []),
    ...(bs.some((b) => b.set) ? ["constant fields (set)"] : []),
  ];
}
