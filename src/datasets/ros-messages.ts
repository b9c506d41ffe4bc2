/**
 * ROS message types as data, shared by the ROS layer (src/ros/: topic maps, the rosbridge test server) and the
 * ROS bag dataset format (src/datasets/ros2-bag/), which sits below it: type names in both spellings, message
 * definitions, the `.msg` schema text a bag stores, default messages in rosbridge's JSON layout, ROS 2 rosbridge's
 * field checks, and CDR (ROS 2) serialisation.
 *
 * Sources: the definitions are `@foxglove/rosmsg-msgs-common`'s, generated from the ROS 1 Noetic and ROS 2 Jazzy
 * interface packages (common_interfaces, rcl_interfaces); CDR is OMG XCDR1 little-endian as ROS 2's rmw writes it
 * (`@foxglove/rosmsg2-serialization`); the schema text follows the MCAP spec's ros2msg/ros1msg appendix in the
 * order rosbag2's LocalMessageDefinitionSource writes it (root, then each dependency once, sorted, depth first).
 */
import { ros1, ros2jazzy } from "@foxglove/rosmsg-msgs-common";
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
import { ScdError } from "../errors.ts";

/** ROS 1 or ROS 2. */
export type RosVersion = 1 | 2;

const DEFS: Record<RosVersion, Record<string, MessageDefinition>> = {
  1: ros1 as unknown as Record<string, MessageDefinition>,
  2: ros2jazzy as unknown as Record<string, MessageDefinition>,
};

/** A type name in both spellings: ROS 1 `pkg/Name`, ROS 2 `pkg/msg/Name`; `version` is 2 for the ROS 2 spelling, else 1. */
export interface RosTypeName {
  pkg: string;
  name: string;
  ros1: string;
  ros2: string;
  version: RosVersion;
}

/** Split a message type name (`geometry_msgs/Twist` or `geometry_msgs/msg/Twist`). @throws ScdError for any other shape. */
export function parseRosType(type: string): RosTypeName {
  const m = /^([A-Za-z][A-Za-z0-9_]*)\/(?:(msg)\/)?([A-Za-z][A-Za-z0-9_]*)$/.exec(type);
  if (!m) throw new ScdError(`"${type}" is not a ROS message type name (pkg/Name or pkg/msg/Name)`);
  return { pkg: m[1], name: m[3], ros1: `${m[1]}/${m[3]}`, ros2: `${m[1]}/msg/${m[3]}`, version: m[2] ? 2 : 1 };
}

/**
 * The definition of `type` first, then every nested type it uses (once each), for `version`'s message layouts.
 * @throws ScdError naming the type when the maintained definitions do not have it.
 */
export function rosDefinitions(type: string, version: RosVersion): MessageDefinition[] {
  const key = parseRosType(type).ros1;
  const defs = DEFS[version];
  if (!defs[key]) throw new ScdError(`no ROS ${version} message definition for ${type}`, "unknown-name");
  const out: MessageDefinition[] = [];
  const seen = new Set<string>();
  const walk = (k: string) => {
    if (seen.has(k)) return;
    seen.add(k);
    const d = defs[k];
    if (!d) throw new ScdError(`no ROS ${version} message definition for ${k} (inside ${type})`, "unknown-name");
    out.push(d);
    for (const f of d.definitions) if (f.isComplex) walk(f.type);
  };
  walk(key);
  return out;
}

function fieldLine(f: MessageDefinitionField, version: RosVersion): string {
  let t = f.type;
  if (version === 2 && t === "time") t = "builtin_interfaces/Time";
  if (version === 2 && t === "duration") t = "builtin_interfaces/Duration";
  if (f.upperBound !== undefined && t === "string") t += `<=${f.upperBound}`;
  if (f.isArray) t += f.arrayLength !== undefined ? `[${f.arrayLength}]` : f.arrayUpperBound !== undefined ? `[<=${f.arrayUpperBound}]` : "[]";
  if (f.isConstant) return `${t} ${f.name}=${f.valueText ?? String(f.value)}`;
  const dv = f.defaultValue;
  return `${t} ${f.name}${version === 2 && dv !== undefined ? ` ${JSON.stringify(dv)}` : ""}`;
}

const SEPARATOR = "=".repeat(80);

/**
 * The schema text a bag stores for `type`: the `.msg` definition, then each dependency once after a line of 80 "="
 * and `MSG: <pkg>/<Name>` (MCAP ros2msg / ros1msg). ROS 2 text spells stamps `builtin_interfaces/Time`.
 */
export function msgSchemaText(type: string, version: RosVersion): string {
  const defs = DEFS[version];
  const seen = new Set<string>();
  const text = (k: string): string => {
    const d = defs[k];
    const deps = new Set<string>();
    for (const f of d.definitions) {
      if (f.isComplex) deps.add(f.type);
      else if (version === 2 && (f.type === "time" || f.type === "duration")) deps.add(f.type === "time" ? "builtin_interfaces/Time" : "builtin_interfaces/Duration");
    }
    let s = d.definitions.map((f) => fieldLine(f, version)).join("\n") + "\n";
    for (const dep of [...deps].sort()) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      s += `\n${SEPARATOR}\nMSG: ${dep}\n${text(dep)}`;
    }
    return s;
  };
  rosDefinitions(type, version); // the error for an unknown type
  return text(parseRosType(type).ros1);
}

/** A zero time in rosbridge's JSON: ROS 1 `{secs, nsecs}`, ROS 2 `{sec, nanosec}`. */
export const zeroTime = (version: RosVersion) => (version === 2 ? { sec: 0, nanosec: 0 } : { secs: 0, nsecs: 0 });

/** A time (ms since the Unix epoch) in rosbridge's JSON layout of `version`. */
export function rosTime(ms: number, version: RosVersion): Record<string, number> {
  const sec = Math.floor(ms / 1000), ns = Math.round((ms - sec * 1000) * 1e6);
  return version === 2 ? { sec, nanosec: ns } : { secs: sec, nsecs: ns };
}

function defaultValue(f: MessageDefinitionField, version: RosVersion, owner: string): unknown {
  if (f.isComplex) return defaultMessage(f.type, version);
  if (f.type === "time" || f.type === "duration") return zeroTime(version);
  if (f.defaultValue !== undefined) return f.defaultValue;
  // ROS 1 .msg files have no defaults; ROS 2's (e.g. Quaternion w = 1) hold for the same type there too
  const r2 = DEFS[2][owner]?.definitions.find((g) => g.name === f.name)?.defaultValue;
  if (r2 !== undefined) return r2;
  return f.type === "string" ? "" : f.type === "bool" ? false : 0;
}

/** A message of `type` with every field at its default, in rosbridge's JSON layout for `version`. @throws ScdError for an unknown type. */
export function defaultMessage(type: string, version: RosVersion): Record<string, unknown> {
  const key = parseRosType(type).ros1;
  const def = rosDefinitions(key, version)[0];
  const msg: Record<string, unknown> = {};
  for (const f of def.definitions) {
    if (f.isConstant) continue;
    if (f.isArray) msg[f.name] = f.arrayLength !== undefined ? Array.from({ length: f.arrayLength }, () => defaultValue({ ...f, isArray: false }, version, key)) : [];
    else msg[f.name] = defaultValue(f, version, key);
  }
  return msg;
}

const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], byte: [0, 255], char: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-2147483648, 2147483647], uint32: [0, 4294967295], int64: [-(2 ** 63), 2 ** 63], uint64: [0, 2 ** 64],
};

function conformValue(v: unknown, f: MessageDefinitionField, where: string): unknown {
  if (f.isComplex) return conformTo(v, f.type, `${where}`);
  if (f.type === "time" || f.type === "duration") return conformTo(v, f.type === "time" ? "builtin_interfaces/Time" : "builtin_interfaces/Duration", where);
  if (f.type === "string") {
    if (typeof v !== "string") throw new ScdError(`${where}: expected a string, got ${JSON.stringify(v)}`);
    return v;
  }
  if (f.type === "bool") {
    if (typeof v !== "boolean") throw new ScdError(`${where}: expected a bool, got ${JSON.stringify(v)}`);
    return v;
  }
  if (typeof v !== "number") throw new ScdError(`${where}: expected ${f.type}, got ${JSON.stringify(v)}`);
  const r = INT_RANGE[f.type];
  if (r && (!Number.isInteger(v) || v < r[0] || v > r[1])) throw new ScdError(`${where}: ${v} is not a ${f.type}`);
  return v;
}

const BUILTIN_TIME: MessageDefinitionField[] = [
  { name: "sec", type: "int32", isComplex: false, isArray: false },
  { name: "nanosec", type: "uint32", isComplex: false, isArray: false },
];

function conformTo(msg: unknown, type: string, where: string): Record<string, unknown> {
  const fields = type.startsWith("builtin_interfaces/") ? BUILTIN_TIME : rosDefinitions(type, 2)[0].definitions;
  const name = parseRosType(type).ros2;
  if (msg === null || typeof msg !== "object" || Array.isArray(msg)) throw new ScdError(`${where}: expected a ${name} object, got ${JSON.stringify(msg)}`);
  const o = msg as Record<string, unknown>;
  const names = new Set(fields.filter((f) => !f.isConstant).map((f) => f.name));
  for (const k of Object.keys(o)) if (!names.has(k)) throw new ScdError(`${where}: ${name} has no field "${k}" (it has ${[...names].join(", ")})`);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.isConstant) continue;
    const at = `${where}.${f.name}`;
    if (!(f.name in o)) {
      out[f.name] = type.startsWith("builtin_interfaces/") ? 0 : defaultMessage(type, 2)[f.name];
      continue;
    }
    const v = o[f.name];
    if (f.isArray) {
      if (!Array.isArray(v)) throw new ScdError(`${at}: expected an array, got ${JSON.stringify(v)}`);
      if (f.arrayLength !== undefined && v.length !== f.arrayLength) throw new ScdError(`${at}: expected ${f.arrayLength} elements, got ${v.length}`);
      out[f.name] = v.map((x, i) => conformValue(x, { ...f, isArray: false }, `${at}[${i}]`));
    } else out[f.name] = conformValue(v, f, at);
  }
  return out;
}

/**
 * What a ROS 2 rosbridge does to a JSON message before publishing it: every field must exist in the ROS 2
 * definition with the right JSON type (a ROS 1 stamp `{secs, nsecs}` is refused), missing fields take defaults.
 * @throws ScdError naming the field path and the value.
 */
export function conformRos2(msg: unknown, type: string): Record<string, unknown> {
  return conformTo(msg, parseRosType(type).ros1, "msg");
}

/** Typed arrays to plain arrays and bigints to numbers, recursively: what rosbridge's JSON carries. */
export function toJson(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? Number(x) : x));
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

/** A CDR (ROS 2) codec of one message type: `write` (rosbridge JSON → CDR bytes with the 4-byte encapsulation header) and `read` (back, times as `{sec, nanosec}`). */
export interface CdrCodec {
  write(msg: unknown): Uint8Array;
  read(bytes: ArrayBufferView): Record<string, unknown>;
}

const CODECS = new Map<string, CdrCodec>();

/** The CDR codec of a ROS 2 message type (from the maintained definitions). @throws ScdError for an unknown type. */
export function cdrCodec(type: string): CdrCodec {
  const key = parseRosType(type).ros1;
  let c = CODECS.get(key);
  if (!c) {
    const defs = rosDefinitions(type, 2).map((d, i) => (i === 0 ? { ...d, name: undefined } : d));
    const w = new MessageWriter(defs), r = new MessageReader(defs, { timeType: "sec,nanosec" });
    c = { write: (m) => w.writeMessage(m), read: (b) => toJson(r.readMessage(b)) as Record<string, unknown> };
    CODECS.set(key, c);
  }
  return c;
}
