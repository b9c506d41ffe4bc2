/**
 * KV caches as explicit graph inputs/outputs (past_key_i / past_value_i → present_key_i / present_value_i,
 * [batch, heads, frames, dh], oldest frame first), the runtime state that carries them from frame to frame,
 * and the exporters' guard against config fields they do not implement.
 */
import { ScdError } from "../errors.ts";
import type { GraphBuilder } from "./onnx-graph.ts";
import type { KVNames, WeightReader } from "./onnx-nn.ts";
import type { Feed } from "./runtime.ts";

export function kvInputs(g: GraphBuilder, prefix: string, layers: number, heads: number, dh: number, doc: string): KVNames[] {
  return Array.from({ length: layers }, (_, i) => ({
    k: g.input({ name: `${prefix}_key_${i}`, dtype: "float32", shape: ["batch", heads, prefix, dh], doc: `layer ${i} ${doc}` }),
    v: g.input({ name: `${prefix}_value_${i}`, dtype: "float32", shape: ["batch", heads, prefix, dh], doc: `layer ${i} ${doc}` }),
  }));
}

export function kvOutputs(g: GraphBuilder, kv: KVNames[], prefix: string, heads: number, dh: number, doc: string): void {
  kv.forEach(({ k, v }, i) => {
    g.output(k, { name: `${prefix}_key_${i}`, dtype: "float32", shape: ["batch", heads, prefix, dh], doc: `layer ${i} ${doc}` });
    g.output(v, { name: `${prefix}_value_${i}`, dtype: "float32", shape: ["batch", heads, prefix, dh], doc: `layer ${i} ${doc}` });
  });
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

/**
 * Config fields outside `known` are accepted only at their schema default (the architecture the exporter knows);
 * anything else is refused with the field named, so a new variant never exports silently wrong.
 */
export function checkKnownConfig(config: Record<string, unknown>, known: readonly string[], defaults: Record<string, unknown>, where: string): Record<string, unknown> {
  for (const [k, v] of Object.entries(config))
    if (!known.includes(k) && JSON.stringify(v) !== JSON.stringify(defaults[k]))
      throw new ScdError(`${where}: config field "${k}" = ${JSON.stringify(v)} is not supported by the ONNX export (it implements ${known.join(", ")})`);
  return config;
}

/** The checkpoint's config through the policy's schema, refusing fields the exporter does not implement (named in checkpoint.json). */
export function exportConfig<T>(schema: { parse(v: unknown): T }, config: Record<string, unknown>, known: readonly string[], w: WeightReader): T {
  return schema.parse(checkKnownConfig(config, known, schema.parse({}) as Record<string, unknown>, w.where.replace(/weights\.msgpack$/, "checkpoint.json")));
}
