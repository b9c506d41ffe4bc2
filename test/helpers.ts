/** Shared test helpers: run the real CLI in a child process. */
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SHARED = path.resolve(ROOT, "../shared");
export const PUSHT_NATIVE = path.join(ROOT, "assets/datasets/pusht/pusht_human.scdd");
export const PUSHT_ZARR = path.join(SHARED, "datasets/pusht_cchi_v7_replay.zarr");

export function scd(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin/scd.js"), ...args], { encoding: "utf8", env: { ...process.env, SCD_QUIET: "1", ...env }, cwd: ROOT, timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI refuses `args` as a user error: exit 2, one line `scd: error: …` matching `needle`, no stack trace. */
export function userError(args: string[], needle: RegExp): void {
  const r = scd(args);
  assert.is(r.code, 2, `exit code for ${args.join(" ")}: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.is(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0], /^scd: error: /);
  assert.match(lines[0], needle);
  assert.not.match(r.stderr, /\n\s+at /);
}
