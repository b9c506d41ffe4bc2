/**
 * KV caches as explicit graph inputs/outputs (past_key_i / past_value_i → present_key_i / present_value_i,
 * [batch, heads, frames, dh], oldest frame first): their specs and names, and the runtime state that carries them
 * from frame to frame.
 */
import type { Feed, ValueSpec } from "../policies/registry.ts";

/** KV-cache values `${prefix}_key_i` / `${prefix}_value_i` [batch, heads, prefix, dh], i < layers, in that order. */
export function kvSpecs(prefix: string, layers: number, heads: number, dh: number, doc: string): ValueSpec[] {
  return Array.from({ length: layers }, (_, i) => (["key", "value"] as const).map((kind): ValueSpec => ({ name: `${prefix}_${kind}_${i}`, dtype: "float32", shape: ["batch", heads, prefix, dh], doc: `layer ${i} ${doc}` }))).flat();
}

/** The KV values of a graph's inputs or outputs named by kvSpecs, per layer. */
export function kvOf<T>(values: Record<string, T>, prefix: string, layers: number): { k: T; v: T }[] {
  return Array.from({ length: layers }, (_, i) => ({ k: values[`${prefix}_key_${i}`], v: values[`${prefix}_value_${i}`] }));
}

/** Per-layer KV values as named outputs (kvSpecs' names). */
export function kvNamed<T>(kv: { k: T; v: T }[], prefix: string): Record<string, T> {
  return Object.fromEntries(kv.flatMap(({ k, v }, i) => [[`${prefix}_key_${i}`, k], [`${prefix}_value_${i}`, v]]));
}

export interface KVState {
  /** The cache as feeds named `${prefix}_key_i` / `${prefix}_value_i`. */
  feeds(prefix: string): Record<string, Feed>;
  /** Take `${prefix}_*` outputs of a run as the new cache. */
  update(outputs: Record<string, Feed>, prefix: string): void;
}

/** An empty cache (0 frames) for `layers` layers. */
export function emptyCache(layers: number, batch: number, heads: number, dh: number): KVState {
  const empty: Feed = { data: new Float32Array(0), dims: [batch, heads, 0, dh] };
  let kv: { k: Feed; v: Feed }[] = Array.from({ length: layers }, () => ({ k: empty, v: empty }));
  return {
    feeds: (prefix) => Object.fromEntries(kv.flatMap(({ k, v }, i) => [[`${prefix}_key_${i}`, k], [`${prefix}_value_${i}`, v]])),
    update: (out, prefix) => {
      kv = kv.map((_, i) => ({ k: out[`${prefix}_key_${i}`], v: out[`${prefix}_value_${i}`] }));
    },
  };
}
