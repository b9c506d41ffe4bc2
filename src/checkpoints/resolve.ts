/** Turn a `--policy` argument into a policy factory: built-in names, a checkpoint directory, or an ONNX export. */
import * as fs from "node:fs";
import { ScdError } from "../errors.ts";
import type { Box } from "../envs/types.ts";
import type { ChunkPolicy } from "../policies/types.ts";
import { builtinPolicy } from "../policies/builtin.ts";
import { ReplayPolicy } from "../policies/replay.ts";
import { loadDataset } from "../datasets/load.ts";

export const BUILTIN_POLICIES = ["expert", "random", "replay"];

export async function policyFactory(spec: string, envId: string, actionSpace: Box, opts: { dataset?: string } = {}): Promise<() => Promise<ChunkPolicy>> {
  if (spec === "replay") {
    if (!opts.dataset) throw new ScdError(`policy "replay" needs --dataset <zarr or .scdd> (demonstration k is replayed for seed k)`);
    const { buffer } = await loadDataset(opts.dataset);
    return async () => new ReplayPolicy(buffer);
  }
  if (BUILTIN_POLICIES.includes(spec)) {
    await builtinPolicy(spec, envId, actionSpace); // fail early with a clear error
    return () => builtinPolicy(spec, envId, actionSpace);
  }
  if (fs.existsSync(spec) && fs.statSync(spec).isDirectory()) {
    const isCkpt = fs.existsSync(`${spec}/checkpoint.json`), isExport = fs.existsSync(`${spec}/manifest.json`);
    if (!isCkpt && !isExport) throw new ScdError(`${spec}: neither a checkpoint (no checkpoint.json) nor an ONNX export (no manifest.json)`, "missing-file");
    if (isExport && !isCkpt) {
      const { loadExportPolicy } = await import("./load-export.ts");
      return loadExportPolicy(spec);
    }
    const { loadCheckpointPolicy } = await import("./load-checkpoint.ts");
    return loadCheckpointPolicy(spec);
  }
  throw new ScdError(`--policy "${spec}" is neither a built-in policy (${BUILTIN_POLICIES.join(", ")}) nor a checkpoint or ONNX export directory`);
}
