/** Export directories → policy factories for eval and run (Node: onnxruntime-node). The exporters register at the entry point (policies/onnx.ts). */
import type { ChunkPolicy } from "../policy/types.ts";
import { loadExport } from "./onnx-policy.ts";
import { nodeRunner } from "./ort-node.ts";

export async function loadExportPolicy(dir: string): Promise<() => Promise<ChunkPolicy>> {
  const ex = loadExport(dir, (b) => nodeRunner(b)); // fails early with a clear error; sessions shared by every policy
  return async () => ex.policy();
}
