/**
 * Messages ⇄ feature vectors, by the topic map's field paths. Decoding never throws: a malformed message
 * (wrong type, NaN, missing field, oversized or short array) returns the reason, which the connector counts.
 */
import type { FieldSpec } from "./topic-map.ts";
import { isArrayPath } from "./topic-map.ts";

function get(msg: unknown, path: string): unknown {
  let v: unknown = msg;
  for (const key of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

// NaN and ±Infinity by name (JSON.stringify would call them null), anything else as JSON, cut short
const show = (v: unknown): string => (typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v)).slice(0, 80));

/** A message's values at the fields' paths as one feature vector, or why the message is malformed (never throws). */
export function decodeFields(msg: unknown, fields: FieldSpec[], maxArray: number): { values: Float32Array } | { error: string } {
  const out: number[] = [];
  for (const f of fields) {
    const v = get(msg, f.path);
    if (v === undefined) return { error: `missing field "${f.path}"` };
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const arr = v as ArrayLike<unknown>;
      if (arr.length > maxArray) return { error: `field "${f.path}" has ${arr.length} elements (max ${maxArray})` };
      const want = f.indices ?? Array.from({ length: f.length ?? arr.length }, (_, i) => i);
      for (const i of want) {
        const x = arr[i];
        if (typeof x !== "number" || !Number.isFinite(x)) return { error: `field "${f.path}"[${i}] is ${x === undefined ? "missing" : show(x)}` };
        out.push(x);
      }
    } else {
      if (typeof v !== "number" || !Number.isFinite(v)) return { error: `field "${f.path}" is ${show(v)}, not a finite number` };
      out.push(v);
    }
  }
  return { values: Float32Array.from(out) };
}

const TEMPLATES: Record<string, () => Record<string, unknown>> = {
  "geometry_msgs/Point": () => ({ x: 0, y: 0, z: 0 }),
  "geometry_msgs/Pose": () => ({ position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }),
  "geometry_msgs/PoseStamped": () => ({ header: { seq: 0, stamp: { secs: 0, nsecs: 0 }, frame_id: "" }, pose: TEMPLATES["geometry_msgs/Pose"]() }),
  "geometry_msgs/Twist": () => ({ linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }),
  "sensor_msgs/JointState": () => ({ header: { seq: 0, stamp: { secs: 0, nsecs: 0 }, frame_id: "" }, name: [], position: [], velocity: [], effort: [] }),
  "std_msgs/Float32MultiArray": () => ({ layout: { dim: [], data_offset: 0 }, data: [] }),
  "std_msgs/Float64MultiArray": () => ({ layout: { dim: [], data_offset: 0 }, data: [] }),
  "trajectory_msgs/JointTrajectory": () => ({ header: { seq: 0, stamp: { secs: 0, nsecs: 0 }, frame_id: "" }, joint_names: [], points: [{ positions: [], velocities: [], accelerations: [], effort: [], time_from_start: { secs: 0, nsecs: 0 } }] }),
};

/** Build a message of `type` with the action's values written at the field paths. */
export function encodeAction(type: string, fields: FieldSpec[], action: ArrayLike<number>): Record<string, unknown> {
  const make = TEMPLATES[type];
  if (!make) throw new Error(`no message template for ${type}`);
  const msg = make();
  let k = 0;
  for (const f of fields) {
    const keys = f.path.split(".");
    let o: Record<string, unknown> | unknown[] = msg;
    for (const key of keys.slice(0, -1)) o = (o as Record<string, unknown>)[key] as Record<string, unknown>;
    const leaf = keys.at(-1)!;
    if (isArrayPath(f.path)) {
      const n = f.indices?.length ?? f.length ?? action.length - k;
      (o as Record<string, unknown>)[leaf] = Array.from({ length: n }, () => action[k++]);
    } else (o as Record<string, unknown>)[leaf] = action[k++];
  }
  return msg;
}
