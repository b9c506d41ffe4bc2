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

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

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
