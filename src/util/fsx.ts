/** Atomic writes: write a temp file beside the target, fsync, rename. A crash never leaves a half file. And versioned JSON reads. */
import * as fs from "node:fs";
import * as path from "node:path";
import type { z } from "zod";
import { ScdError } from "../errors.ts";
import { parseVersionedJson } from "./versioned.ts";

export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

/** Write `data` to `file` and fsync it (its folder must exist). */
export function writeSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, "w");
  try {
    fs.writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write `target` atomically: a synced temp file beside it, renamed into place; missing parent folders are created. */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const tmp = tempPathFor(target);
  writeSynced(tmp, data);
  fs.renameSync(tmp, target);
}

export { crc32 } from "./crc32.ts";

/** Read a versioned JSON file (see parseVersionedJson); a file that cannot be read is "corrupt JSON" too, naming it. */
export function readVersionedJson<T>(f: string, format: string, version: number, schema: z.ZodType<T>, what: { version: string; invalid: string }): T {
  let text: string;
  try {
    text = fs.readFileSync(f, "utf8");
  } catch (e) {
    throw new ScdError(`${f}: corrupt JSON (${(e as Error).message})`, "corrupt-file");
  }
  return parseVersionedJson(text, f, format, version, schema, what);
}
