/**
 * Messages ⇄ feature vectors, by the topic map's field paths. Decoding never throws: a malformed message
 * (wrong type, NaN, missing field, oversized or short array) returns the reason, which the connector counts.
 * Encoding builds the whole message from its definition (ROS 1 or ROS 2 layout by the type's spelling: ROS 2
 * stamps are `builtin_interfaces/Time` `{sec, nanosec}`, ROS 1 ones `{secs, nsecs}` after a header `seq`).
 */
import { decodeFields, encodeFields, type MessageField } from "../datasets/ros-fields.ts";
import { rosVersionOf } from "./topic-map.ts";

export { decodeFields };

/**
 * Build a message of `type` with the action's values written at the field paths. With `stampMs` (ms since the Unix
 * epoch) a message with a header carries that stamp.
 * @throws ScdError when the type is unknown or a path is not a number field of it.
 */
export function encodeAction(type: string, fields: MessageField[], action: ArrayLike<number>, stampMs?: number): Record<string, unknown> {
  return encodeFields(type, rosVersionOf(type), fields, action, stampMs);
}
