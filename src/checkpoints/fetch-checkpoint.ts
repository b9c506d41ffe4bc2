/**
 * A checkpoint fetched over HTTP (browser-safe): checkpoint.json and weights.msgpack at `base`, checked as
 * checkpoint.ts checks files (format, version, schema, layout vs normalizers, float32 weights), then tfjs policies
 * built from them (learned.ts). The policy must be registered (src/policies/<name>/index.ts) and a tfjs backend ready.
 */
import { parseCheckpointMeta, decodeWeights, type CheckpointMeta, type Weights } from "./format.ts";
import type { LearnedPolicy } from "../policies/learned.ts";
import { policyFromCheckpoint } from "./to-policy.ts";
import { fetchOk } from "../util/fetch.ts";

/** A checkpoint fetched over HTTP ({@link loadWebCheckpoint}): its metadata, and policies made from it. */
export interface WebCheckpoint {
  meta: CheckpointMeta;
  /** A new tfjs policy (its own model and state) on the current tfjs backend; dispose() it when done. */
  policy(): LearnedPolicy;
}

/**
 * Fetch and check the checkpoint at `base` (a URL ending in "/").
 * @throws ScdError naming the URL on an HTTP error or any mismatch (see parseCheckpointMeta, decodeWeights).
 */
export async function loadWebCheckpoint(base: string): Promise<WebCheckpoint> {
  const dir = base.endsWith("/") ? base : `${base}/`; // "…/pusht-scd" means the folder too
  const metaUrl = `${dir}checkpoint.json`, weightsUrl = `${dir}weights.msgpack`;
  const meta = parseCheckpointMeta(await (await fetchOk(metaUrl)).text(), metaUrl);
  const weights: Weights = decodeWeights(new Uint8Array(await (await fetchOk(weightsUrl)).arrayBuffer()), weightsUrl);
  return { meta, policy: () => policyFromCheckpoint(meta, weights, { meta: metaUrl, weights: weightsUrl }) };
}
