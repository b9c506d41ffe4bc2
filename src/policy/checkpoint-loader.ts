/** Checkpoint directories → policy factories (filled by the learned-policy registry). */
import { ScdError } from "../errors.ts";
import type { ChunkPolicy } from "./types.ts";

export async function loadCheckpointPolicy(dir: string): Promise<() => Promise<ChunkPolicy>> {
  throw new ScdError(`${dir}: loading learned-policy checkpoints is not available in this build`);
}
