/** Versioned JSON documents (checkpoints, ONNX export manifests) from text: browser-safe; fsx.ts adds the file read. */
import type { z } from "zod";
import { ScdError } from "../errors.ts";

/**
 * Parse `text` (from `where`: a file path or URL), check its `format` and `version`, then validate it with `schema`.
 * @throws ScdError naming `where` for corrupt JSON, a wrong format, an unsupported version or an invalid field
 * (`what.version` / `what.invalid` name the document in those messages).
 */
export function parseVersionedJson<T>(text: string, where: string, format: string, version: number, schema: z.ZodType<T>, what: { version: string; invalid: string }): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ScdError(`${where}: corrupt JSON (${(e as Error).message})`, "corrupt-file");
  }
  const fmt = (raw as { format?: unknown })?.format, ver = (raw as { version?: unknown })?.version;
  if (fmt !== format) throw new ScdError(`${where}: format "${String(fmt)}" is not "${format}"`);
  if (ver !== version) throw new ScdError(`${where}: unsupported ${what.version} version ${String(ver)} (this scd reads version ${version})`);
  const r = schema.safeParse(raw);
  if (!r.success) throw new ScdError(`${where}: invalid ${what.invalid}: ${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`);
  return r.data;
}
