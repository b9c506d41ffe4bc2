/**
 * An ONNX export's manifest.json without the files (browser-safe): its schema and a parser for its text.
 * export-dir.ts reads and writes export directories; the page (src/checkpoints/fetch-export.ts) fetches the same manifest.
 */
import { z } from "zod";
import { CheckpointMeta } from "./format.ts";
import { NormSetSchema } from "../datasets/normalizer.ts";
import { parseVersionedJson } from "../util/versioned.ts";
import { checkManifest } from "./manifest-check.ts";

export const EXPORT_FORMAT = "scd-onnx-export";
export const EXPORT_VERSION = 1;

const IOSpec = z.object({ name: z.string(), dtype: z.enum(["float32", "float64", "int64"]), shape: z.array(z.union([z.number().int().nonnegative(), z.string()])), doc: z.string().optional() });
export const Manifest = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.number().int(),
  policy: z.string(),
  config: z.record(z.string(), z.unknown()),
  layout: CheckpointMeta.shape.layout,
  normalizers: NormSetSchema,
  objective: z.enum(["flow", "ddpm"]).nullable(),
  horizon: z.number().int().positive(),
  actionDim: z.number().int().positive(),
  defaultSteps: z.number().int().positive(),
  opset: z.number().int(),
  irVersion: z.number().int(),
  runtime: z.string(),
  source: z.object({ checkpoint: z.string(), step: z.number().int(), numParams: z.number().int() }),
  graphs: z.record(z.string(), z.object({ file: z.string(), sha256: z.string(), doc: z.string(), inputs: z.array(IOSpec), outputs: z.array(IOSpec) })),
});
export type Manifest = z.infer<typeof Manifest>;

/**
 * manifest.json's text (from `where`, a path or URL) → the manifest, its parts checked against each other and against
 * its policy's registration (checkManifest; the policies must be registered).
 * @throws ScdError naming `where`, the field and the value (see parseVersionedJson and checkManifest).
 */
export function parseManifest(text: string, where: string): Manifest {
  const m = parseVersionedJson(text, where, EXPORT_FORMAT, EXPORT_VERSION, Manifest, { version: "export", invalid: "manifest" });
  checkManifest(m, where);
  return m;
}
