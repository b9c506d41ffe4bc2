/** Export directories → policy factories for eval and run (Node: onnxruntime-node). The policies (their ONNX runtimes) register at the entry point. */
import type { ChunkPolicy } from "../policies/types.ts";
import { loadExport } from "../deploy/onnx-policy.ts";
import { nodeRunner, ortNodeBinding } from "../deploy/ort-node.ts";

export async function loadExportPolicy(dir: string): Promise<() => Promise<ChunkPolicy>> {
  ortNodeBinding(); // a missing onnxruntime-node is named as such, not as an unloadable graph
  const ex = loadExport(dir, (b) => nodeRunner(b)); // fails early with a clear error; sessions shared by every policy
  return async () => ex.policy();
}
