/**
 * An ONNX export directory fetched over HTTP (browser-safe): manifest.json and each graph's bytes, checked as
 * export-dir.ts checks files (format, version and schema, sha256 via WebCrypto, every input/output against the manifest),
 * then the policy's registered ONNX runtime over synchronous wasm sessions (ort-wasm.ts). The policies must be
 * registered by the entry point (src/policies/index.ts, or a tfjs-free spec such as src/policies/scd/onnx.ts).
 */
import { ScdError } from "../errors.ts";
import { parseManifest, type Manifest } from "./manifest.ts";
import { checkGraphIO, factsOf } from "./graph-check.ts";
import { OnnxPolicy } from "../deploy/onnx-chunk-policy.ts";
import { onnxExportDef, type GraphRunner } from "../deploy/runtime.ts";
import { fetchOk } from "../util/fetch.ts";

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

/** An ONNX export fetched over HTTP and loaded into ONNX Runtime Web ({@link loadWebExport}). */
export interface WebExport {
  manifest: Manifest;
  /** A policy with its own state over the shared sessions. */
  policy(): OnnxPolicy;
  /** Release the graphs' sessions. */
  dispose(): void;
}

/** Load the export at `base` (a URL ending in "/"). Throws ScdError naming the URL on any mismatch. */
export async function loadWebExport(base: string, ort: { runner(model: Uint8Array): GraphRunner }): Promise<WebExport> {
  const mf = `${base}manifest.json`;
  const m = parseManifest(await (await fetchOk(mf)).text(), mf);
  const def = onnxExportDef(m.policy, mf);
  const graphs: Record<string, GraphRunner> = {};
  try {
    for (const [name, g] of Object.entries(m.graphs)) {
      const url = `${base}${g.file}`;
      const bytes = await (await fetchOk(url)).arrayBuffer();
      if (hex(await crypto.subtle.digest("SHA-256", bytes)) !== g.sha256) throw new ScdError(`${url}: contents differ from the sha256 in ${mf}`);
      try {
        graphs[name] = ort.runner(new Uint8Array(bytes));
      } catch (e) {
        throw new ScdError(`${url}: not a loadable ONNX model (${(e as Error).message})`);
      }
      checkGraphIO(mf, name, g, graphs[name]);
    }
  } catch (e) {
    Object.values(graphs).forEach((g) => g.dispose());
    throw e;
  }
  return {
    manifest: m,
    policy: () => new OnnxPolicy(m, def.runtime(m.config, factsOf(m), m.layout.frameDim, graphs), 1),
    dispose: () => Object.values(graphs).forEach((g) => g.dispose()),
  };
}
