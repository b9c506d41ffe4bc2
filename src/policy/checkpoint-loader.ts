/** Checkpoint directories → policy factories for eval and run. */
import type { ChunkPolicy } from "./types.ts";
import { readCheckpointMeta } from "./checkpoint.ts";
import { loadPolicy } from "./learned.ts";

export async function loadCheckpointPolicy(dir: string): Promise<() => Promise<ChunkPolicy>> {
  readCheckpointMeta(dir); // fail early with a clear error
  return async () => loadPolicy(dir);
}
