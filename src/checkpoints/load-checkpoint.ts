/** Checkpoint directories → tfjs policies (Node: reads the files; the browser fetches them, src/checkpoints/fetch-checkpoint.ts). */
import * as path from "node:path";
import type { ChunkPolicy } from "../policies/types.ts";
import { readCheckpointMeta, readWeights } from "./checkpoint.ts";
import type { LearnedPolicy } from "../policies/learned.ts";
import { policyFromCheckpoint } from "./to-policy.ts";

/**
 * Load the checkpoint in `dir` as a tfjs policy for `batch` streams.
 * @throws ScdError naming the file and field for a missing, corrupt or inconsistent checkpoint.
 */
export function loadPolicy(dir: string, batch = 1): LearnedPolicy {
  const meta = readCheckpointMeta(dir);
  return policyFromCheckpoint(meta, readWeights(dir), { meta: path.join(dir, "checkpoint.json"), weights: path.join(dir, "weights.msgpack") }, batch);
}

/** A factory for eval and run; checks the metadata now so a bad checkpoint fails before any env starts. */
export async function loadCheckpointPolicy(dir: string): Promise<() => Promise<ChunkPolicy>> {
  readCheckpointMeta(dir); // fail early with a clear error
  return async () => loadPolicy(dir);
}
