/**
 * The one rule for everything a command writes (files and directories), so every writer behaves the same way:
 *   - an output is checked before the work starts, without side effects (no folder is created for a run that fails);
 *   - missing parent folders are created by the writers themselves (`ensureParent`, `writeFileAtomic`);
 *   - an existing output needs `--force` where the command has one; a directory is replaced only when it is an
 *     earlier output of the same format (`isOwn`) or empty, never a folder holding something else;
 *   - directories are written into a temp folder beside the target and renamed into place (`writeDirAtomic`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ScdError } from "../errors.ts";
import { tempPathFor, writeSynced } from "./fsx.ts";

export interface OutputSpec {
  /** The flag that named the output, for errors ("out", "json", …). */
  flag: string;
  /** A file or a directory. */
  kind: "file" | "dir";
  /**
   * undefined: the command has no --force and overwrites a file (reports: --json, --plot); a directory is
   * still replaced only under the isOwn/empty rule. false/true: the command's --force.
   */
  force?: boolean;
  /** For directories: is the existing one an earlier output of this format (e.g. it has manifest.json)? */
  isOwn?: (dir: string) => boolean;
  /** For directories the command adds files to (GIFs) and never replaces: any existing folder will do. */
  addsTo?: boolean;
  /** What the format is called in errors, with its article ("a lerobot dataset", "an ONNX export"). */
  what?: string;
}

/**
 * Check that `p` can be written as `spec` says, before any work: the kind matches, an existing output may be
 * replaced, and the nearest existing ancestor is a folder where a probe file can be created and removed (root passes
 * permission checks, so this is tried, not asked). "-" (stdout) always passes.
 * @throws ScdError naming the flag, the path and what is in the way.
 */
export function checkOutput(p: string | undefined, spec: OutputSpec): void {
  if (!p || p === "-") return;
  const target = path.resolve(p), name = `--${spec.flag} ${p}`;
  if (fs.existsSync(target)) {
    const isDir = fs.statSync(target).isDirectory();
    if (isDir !== (spec.kind === "dir")) throw new ScdError(`${name}: ${isDir ? "is a directory" : "is a file, not a folder"}`);
    if (spec.force === false) throw new ScdError(`${name}: exists; pass --force to replace it`, "output-exists");
    if (isDir && !spec.addsTo && !isEmptyDir(target) && !spec.isOwn?.(target))
      throw new ScdError(`${name}: exists and is not ${spec.what ?? "an earlier output of this command"}; only an earlier one or an empty folder is replaced, never a folder holding other files`, "output-exists");
  }
  let parent = path.dirname(target);
  while (!fs.existsSync(parent)) parent = path.dirname(parent);
  if (!fs.statSync(parent).isDirectory()) throw new ScdError(`${name}: ${parent} is a file, not a folder`);
  const probe = tempPathFor(path.join(parent, "probe"));
  try {
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (e) {
    throw new ScdError(`${name}: cannot write in ${parent} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function isEmptyDir(d: string): boolean {
  return fs.readdirSync(d).length === 0;
}

/** Create the folders above `file` that are missing (what every writer does before it opens a file). Returns `file`. */
export function ensureParent(file: string): string {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return file;
}

/**
 * Write a directory atomically: `fill` writes into a fresh temp folder beside `out`; then an existing `out` is moved
 * aside, the temp folder renamed into place and the old one removed, so a crash leaves either the old or the new
 * directory, never a mix. On an error in `fill` the temp folder is removed and `out` is untouched.
 */
export function writeDirAtomic(out: string, fill: (tmp: string) => void): void {
  const tmp = path.join(path.dirname(path.resolve(ensureParent(out))), `.${path.basename(out)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  fs.mkdirSync(tmp);
  try {
    fill(tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = `${tmp}.old`, had = fs.existsSync(out);
  if (had) fs.renameSync(out, old);
  fs.renameSync(tmp, out);
  if (had) fs.rmSync(old, { recursive: true, force: true });
}

/** Write one file inside a folder being filled, fsynced (what writeDirAtomic's callers put). */
export function putFile(dir: string, name: string, data: string | Uint8Array): void {
  writeSynced(ensureParent(path.join(dir, name)), data);
}
