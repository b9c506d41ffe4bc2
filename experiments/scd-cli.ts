/**
 * What the experiment scripts share to drive the `scd` command: the project root, paths relative to it, and one
 * `scd <argv>` run in the project (its output shown, a failure thrown). Paths handed to scd are relative to the
 * project, so the reports it writes name runs as in a checkout, not by this machine's directories.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root directory (scd's working directory). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** `p` (absolute, or relative to the current directory) relative to the project root; "." for the root itself. */
export const rel = (p: string): string => path.relative(ROOT, path.resolve(p)) || ".";

/** Run `scd <argv>` in the project root, echoing the command. @throws Error when it exits non-zero. */
export function scd(argv: string[]): void {
  process.stderr.write(`$ scd ${argv.join(" ")}\n`);
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin/scd.js"), ...argv], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`scd ${argv[0]} failed (exit ${r.status})`);
}
