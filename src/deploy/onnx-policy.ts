/**
 * An exported policy behind the control loop's ChunkPolicy interface: normalization and seeding from
 * NormalizedChunkPolicy (the tfjs policy's own code), the per-frame work from the policy's ONNX runtime.
 */
import { factsOf, loadGraphs, readManifest, type Manifest } from "../checkpoints/export-dir.ts";
import { OnnxPolicy } from "./onnx-chunk-policy.ts";
import { onnxExportDef, type GraphRunner } from "./runtime.ts";

export { OnnxPolicy };

export interface LoadedExport {
  manifest: Manifest;
  graphs: Record<string, GraphRunner>;
  /** A policy with its own state (cache, history) over the shared graphs. */
  policy(batch?: number): OnnxPolicy;
  dispose(): void;
}

/** Read and check an export directory; `load` turns .onnx bytes into a runner (onnxruntime-node or -web). */
export function loadExport(dir: string, load: (bytes: Uint8Array) => GraphRunner): LoadedExport {
  const manifest = readManifest(dir);
  const def = onnxExportDef(manifest.policy, `${dir}/manifest.json`);
  const graphs = loadGraphs(dir, manifest, load);
  const facts = factsOf(manifest);
  return {
    manifest,
    graphs,
    policy: (batch = 1) => new OnnxPolicy(manifest, def.runtime(manifest.config, facts, manifest.layout.frameDim, graphs), batch),
    dispose: () => Object.values(graphs).forEach((g) => g.dispose()),
  };
}
