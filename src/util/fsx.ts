/** Atomic writes: write a temp file beside the target, fsync, rename. A crash never leaves a half file. And versioned JSON reads. */
import * as fs from "node:fs";
import * as path from "node:path";
import type { z } from "zod";
import { ScdError } from "../errors.ts";

export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const tmp = tempPathFor(target);
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, target);
}

export { crc32 } from "./crc32.ts";

/**
 * Read a JSON file that declares its `format` and `version` (checkpoints, ONNX export manifests): check both, then
 * parse it with `schema`. Throws one ScdError naming the file for corrupt JSON, a wrong format, an unsupported
 * version or an invalid field (`what.version` / `what.invalid` name the document in those messages).
 */
export function readVersionedJson<T>(f: string, format: string, version: number, schema: z.ZodType<T>, what: { version: string; invalid: string }): T {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(f, "utf8"));
  } catch (e) {
    throw new ScdError(`${f}: corrupt JSON (${(e as Error).message})`);
  }
  const fmt = (raw as { format?: unknown })?.format, ver = (raw as { version?: unknown })?.version;
  if (fmt !== format) throw new ScdError(`${f}: format "${String(fmt)}" is not "${format}"`);
  if (ver !== version) throw new ScdError(`${f}: unsupported ${what.version} version ${String(ver)} (this scd reads version ${version})`);
  const r = schema.safeParse(raw);
  if (!r.success) throw new ScdError(`${f}: invalid ${what.invalid}: ${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`);
  return r.data;
}
