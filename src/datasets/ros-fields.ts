/**
 * Values in ROS messages by dotted field paths ("linear.x", "pose.position.y", "data", "points.0.positions"): read
 * them into one feature vector with the loop's checks (finite, present, not oversized), and write a feature vector
 * into a message of a given type, in rosbridge's JSON layout (shared by src/ros/ and the ROS bag format).
 */
import type { MessageDefinitionField } from "@foxglove/message-definition";
import { ScdError } from "../errors.ts";
import { defaultMessage, parseRosType, rosDefinitions, rosTime, toJson, type RosVersion } from "./ros-messages.ts";

/** One value source in a message: a dotted path, optionally picking `indices` of an array or its first `length` elements. */
export interface MessageField {
  path: string;
  indices?: number[];
  length?: number;
}

/** The value at a dotted path ("pose.position.x", "points.0.positions"), or undefined. */
export function valueAt(msg: unknown, path: string): unknown {
  let v: unknown = msg;
  for (const key of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

// NaN and ±Infinity by name (JSON.stringify would call them null), anything else as JSON, cut short
const show = (v: unknown): string => (typeof v === "number" ? String(v) : (JSON.stringify(toJson(v)) ?? String(v)).slice(0, 80));

/** A message's values at the fields' paths as one feature vector, or why the message is malformed (wrong type, non-finite, missing, oversized); never throws. */
export function decodeFields(msg: unknown, fields: MessageField[], maxArray: number): { values: Float32Array } | { error: string } {
  const out: number[] = [];
  for (const f of fields) {
    const v = valueAt(msg, f.path);
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

function fieldOf(type: string, version: RosVersion, name: string, path: string): MessageDefinitionField {
  const f = rosDefinitions(type, version)[0].definitions.find((g) => g.name === name && !g.isConstant);
  if (!f) throw new ScdError(`field path "${path}": ${parseRosType(type).ros2} has no field "${name}"`);
  return f;
}

/**
 * A message of `type` (defaults everywhere) with `values` written at the fields' paths in order: a path ending at an
 * array takes `indices.length`, `length` or all remaining values (placed at `indices` when given), any other path one
 * value; elements of complex arrays on the way ("points.0.positions") are created. When `stampMs` is given and the
 * message has a header, its stamp is that time (ms since the Unix epoch).
 * @throws ScdError naming the path when the type has no such field.
 */
export function encodeFields(type: string, version: RosVersion, fields: MessageField[], values: ArrayLike<number>, stampMs?: number): Record<string, unknown> {
  const msg = defaultMessage(type, version);
  if (stampMs !== undefined && msg.header && typeof msg.header === "object") (msg.header as Record<string, unknown>).stamp = rosTime(stampMs, version);
  let k = 0;
  for (const fs of fields) {
    const keys = fs.path.split(".");
    let o: Record<string, unknown> = msg, t = parseRosType(type).ros1;
    for (let i = 0; i < keys.length; i++) {
      const f = fieldOf(t, version, keys[i], fs.path);
      const last = i === keys.length - 1;
      if (f.isArray && f.isComplex && !last) {
        const idx = Number(keys[++i]);
        if (!Number.isInteger(idx) || idx < 0) throw new ScdError(`field path "${fs.path}": "${keys[i]}" is not an index into ${f.name}`);
        const arr = o[f.name] as Record<string, unknown>[];
        while (arr.length <= idx) arr.push(defaultMessage(f.type, version));
        if (i === keys.length - 1) throw new ScdError(`field path "${fs.path}" ends at a message, not a number`);
        o = arr[idx];
        t = f.type;
      } else if (f.isComplex) {
        if (last) throw new ScdError(`field path "${fs.path}" ends at a ${f.type} message, not a number`);
        o = o[f.name] as Record<string, unknown>;
        t = f.type;
      } else if (!last) throw new ScdError(`field path "${fs.path}": ${f.name} is a ${f.type}, it has no fields`);
      else if (f.isArray) {
        const n = fs.indices?.length ?? fs.length ?? values.length - k;
        if (fs.indices) {
          const arr = new Array(Math.max(...fs.indices) + 1).fill(0);
          for (const j of fs.indices) arr[j] = values[k++];
          o[f.name] = arr;
        } else o[f.name] = Array.from({ length: n }, () => values[k++]);
      } else o[f.name] = values[k++];
    }
  }
  return msg;
}
