/**
 * Messages ⇄ feature vectors, by the topic map's field paths. Decoding never throws: a malformed message
 * (wrong type, NaN, missing field, oversized or short array) returns the reason, which the connector counts.
 * Encoding builds the whole message from its definition (ROS 1 or ROS 2 layout by the type's spelling: ROS 2
 * stamps are `builtin_interfaces/Time` `{sec, nanosec}`, ROS 1 ones `{secs, nsecs}` after a header `seq`).
 * On top of the plain paths (src/datasets/ros-fields.ts): joints picked by `names`, a quaternion read `as` a yaw
 * (or [cos kψ, sin kψ]), and a binding's constant `set` fields in what is published.
 */
import { ScdError } from "../errors.ts";
import { decodeFields as decodePlain, encodeFields, valueAt, type MessageField } from "../datasets/ros-fields.ts";

/** A field of a topic map: a plain path, joints by name, or a quaternion as a yaw. */
export interface CodecField extends MessageField {
  names?: string[];
  as?: "yaw" | "cos_sin_yaw";
  symmetry?: number;
}

const special = (f: CodecField) => !!(f.names || f.as);
const ARRAY_LEAVES = new Set(["data", "position", "velocity", "effort", "positions", "velocities", "accelerations"]);
/** Whether a path ends at a number array (a slice of the feature) rather than one number. */
export const isArrayPath = (p: string): boolean => ARRAY_LEAVES.has(p.split(".").at(-1)!);
/** Values one field gives or takes, or null for an array of undeclared length. */
export const fieldDim = (f: CodecField): number | null =>
  f.as ? (f.as === "yaw" ? 1 : 2) : (f.names?.length ?? f.indices?.length ?? f.length ?? (isArrayPath(f.path) ? null : 1));
const versionOf = (type: string): 1 | 2 => (type.includes("/msg/") ? 2 : 1);
/** The message's list of joint names: JointState `name`, JointTrajectory `joint_names`. */
const nameKey = (msg: Record<string, unknown>) => ("joint_names" in msg ? "joint_names" : "name");
const fold = (a: number) => Math.atan2(Math.sin(a), Math.cos(a));

/** A message's values at the fields' paths as one feature vector, or why the message is malformed; never throws. */
export function decodeFields(msg: unknown, fields: CodecField[], maxArray: number): { values: Float32Array } | { error: string } {
  if (!fields.some(special)) return decodePlain(msg, fields, maxArray);
  const out: number[] = [];
  for (const f of fields) {
    const r = f.as ? decodeYaw(msg, f) : f.names ? decodeNamed(msg, f, maxArray) : decodePlain(msg, [f], maxArray);
    if ("error" in r) return r;
    out.push(...r.values);
  }
  return { values: Float32Array.from(out) };
}

function decodeYaw(msg: unknown, f: CodecField): { values: number[] } | { error: string } {
  const q = valueAt(msg, f.path) as Record<string, unknown> | undefined;
  if (q === undefined) return { error: `missing field "${f.path}"` };
  const c = ["x", "y", "z", "w"].map((k) => (q && typeof q === "object" ? q[k] : undefined));
  if (!c.every((v): v is number => typeof v === "number" && Number.isFinite(v))) return { error: `field "${f.path}" is not a quaternion of finite numbers` };
  const [x, y, z, w] = c;
  if (x * x + y * y + z * z + w * w < 1e-12) return { error: `field "${f.path}" is a zero quaternion` };
  const k = f.symmetry ?? 1, yaw = Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
  return { values: f.as === "yaw" ? [fold(k * yaw) / k] : [Math.cos(k * yaw), Math.sin(k * yaw)] };
}

function decodeNamed(msg: unknown, f: CodecField, maxArray: number): { values: number[] } | { error: string } {
  const m = (msg && typeof msg === "object" ? msg : {}) as Record<string, unknown>;
  const key = nameKey(m), names = m[key], arr = valueAt(msg, f.path) as ArrayLike<unknown> | undefined;
  if (!Array.isArray(names)) return { error: `field "${key}" is not a list of joint names` };
  if (arr === undefined || !(Array.isArray(arr) || ArrayBuffer.isView(arr))) return { error: `missing field "${f.path}"` };
  if (names.length > maxArray || arr.length > maxArray) return { error: `field "${f.path}" has ${Math.max(names.length, arr.length)} elements (max ${maxArray})` };
  const out: number[] = [];
  for (const n of f.names!) {
    const i = names.indexOf(n);
    if (i < 0) return { error: `joint "${n}" is not in ${key} [${names.slice(0, 12).join(", ")}]` };
    const x = arr[i];
    if (typeof x !== "number" || !Number.isFinite(x)) return { error: `field "${f.path}"[${i}] (${n}) is ${x === undefined ? "missing" : String(x)}` };
    out.push(x);
  }
  return { values: out };
}

/**
 * Build a message of `type` with the action's values written at the field paths, and `set`'s constants. With
 * `stampMs` (ms since the Unix epoch) a message with a header carries that stamp.
 * @throws ScdError when the type is unknown or a path is not a number field of it (a quaternion for `as`).
 */
export function encodeAction(type: string, fields: CodecField[], action: ArrayLike<number>, stampMs?: number, set?: Record<string, number | string>): Record<string, unknown> {
  const version = versionOf(type);
  if (!fields.some(special) && !set) return encodeFields(type, version, fields, action, stampMs);
  const plain: MessageField[] = [], values: number[] = [], yaws: [CodecField, number[]][] = [];
  let k = 0, names: string[] | null = null;
  for (const f of fields) {
    const n = fieldDim(f) ?? action.length - k;
    const v = Array.from({ length: n }, (_, i) => action[k + i]);
    k += n;
    if (f.as) yaws.push([f, v]);
    else {
      plain.push(f.names ? { path: f.path, length: f.names.length } : { path: f.path, indices: f.indices, length: f.length });
      values.push(...v);
      names ??= f.names ?? null;
    }
  }
  const msg = encodeFields(type, version, plain, values, stampMs);
  if (names) msg[nameKey(msg)] = [...names];
  for (const [f, v] of yaws) {
    const s = f.symmetry ?? 1, yaw = f.as === "yaw" ? v[0] : Math.atan2(v[1], v[0]) / s;
    put(msg, f.path, type, (old) => (isQuaternion(old) ? { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) } : null), "a quaternion (x, y, z, w)");
  }
  for (const [path, v] of Object.entries(set ?? {})) put(msg, path, type, (old) => (typeof old === typeof v ? v : null), `a ${typeof v}`);
  return msg;
}

const isQuaternion = (o: unknown) => !!o && typeof o === "object" && ["x", "y", "z", "w"].every((k) => typeof (o as Record<string, unknown>)[k] === "number");

/** Replace the value at `path` in `msg` by `make(old)`. @throws ScdError when the path is missing or `make` refuses the old value. */
function put(msg: Record<string, unknown>, path: string, type: string, make: (old: unknown) => unknown, what: string): void {
  const keys = path.split("."), last = keys.pop()!;
  const parent = keys.length ? valueAt(msg, keys.join(".")) : msg;
  const old = parent && typeof parent === "object" && !Array.isArray(parent) ? (parent as Record<string, unknown>)[last] : undefined;
  const v = old === undefined ? null : make(old);
  if (v === null) throw new ScdError(`field path "${path}": ${type} has no field there that is ${what}`);
  (parent as Record<string, unknown>)[last] = v;
}
