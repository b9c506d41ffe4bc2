/** src/util/outputs.ts and the commands that write: one rule for --force, parents and numeric flags. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scd, userError } from "./helpers.ts";
import { COMMANDS } from "../src/cli/commands/index.ts";
import { parseArgs } from "../src/cli/args.ts";
import { checkOutput, writeDirAtomic } from "../src/util/outputs.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scd-outputs-"));
const demos = path.join(tmp, "demos.scdd");

test("collect into a folder that does not exist yet creates it (fresh clone: no runs/)", () => {
  const r = scd(["collect", "reach-obstacle-v1", "--policy", "expert", "--episodes", "2", "--out", path.join(tmp, "new/deeper/x.scdd")]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(fs.existsSync(path.join(tmp, "new/deeper/x.scdd")));
  fs.copyFileSync(path.join(tmp, "new/deeper/x.scdd"), demos);
});

test("dataset export --force never deletes a folder that is not an earlier LeRobot export", () => {
  const folder = path.join(tmp, "precious");
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, "thesis.tex"), "years of work");
  userError(["dataset", "export", demos, "--format", "lerobot", "--out", folder], /exists; pass --force/);
  userError(["dataset", "export", demos, "--format", "lerobot", "--out", folder, "--force"], /precious: exists and is not a lerobot dataset; only an earlier one or an empty folder is replaced/);
  assert.is(fs.readFileSync(path.join(folder, "thesis.tex"), "utf8"), "years of work");
  assert.equal(fs.readdirSync(folder), ["thesis.tex"]);
});

test("dataset export --force replaces an earlier LeRobot export and an empty folder; a file where a folder goes is refused", () => {
  const out = path.join(tmp, "lr");
  assert.is(scd(["dataset", "export", demos, "--format", "lerobot", "--out", out]).code, 0);
  const r = scd(["dataset", "export", demos, "--format", "lerobot", "--out", out, "--force", "--max-frames-per-file", "50"]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(fs.readdirSync(path.join(out, "data/chunk-000")).length > 1, "the second export (split files) replaced the first");
  const empty = path.join(tmp, "empty");
  fs.mkdirSync(empty);
  assert.is(scd(["dataset", "export", demos, "--format", "lerobot", "--out", empty, "--force"]).code, 0);
  assert.ok(fs.existsSync(path.join(empty, "meta/info.json")));
  userError(["dataset", "export", demos, "--format", "lerobot", "--out", demos, "--force"], /demos\.scdd: is a file, not a folder/);
  userError(["dataset", "export", demos, "--format", "mcap", "--out", out, "--force"], /lr: is a directory$/);
  assert.equal(fs.readdirSync(tmp).filter((n) => n.includes(".tmp-")), [], "no temp folders left");
});

test("numeric flags have minimums: --max-frames-per-file 0 or -3, --episodes 0 are refused", () => {
  userError(["dataset", "export", demos, "--format", "lerobot", "--out", path.join(tmp, "z"), "--max-frames-per-file", "0"], /--max-frames-per-file .* must be ≥ 1, got 0/);
  userError(["dataset", "export", demos, "--format", "lerobot", "--out", path.join(tmp, "z"), "--max-frames-per-file=-3"], /must be ≥ 1, got -3/);
  userError(["collect", "reach-obstacle-v1", "--episodes", "0", "--out", path.join(tmp, "y.scdd")], /--episodes .* must be ≥ 1, got 0/);
  assert.not.ok(fs.existsSync(path.join(tmp, "z")));
});

test("every numeric flag of every command states its minimum, and the parser enforces it", () => {
  for (const c of COMMANDS)
    for (const [name, spec] of Object.entries(c.flags)) {
      if (spec.type !== "int" && spec.type !== "number") continue;
      assert.type(spec.min, "number", `scd ${c.name} --${name} has no minimum`);
      assert.throws(() => parseArgs([`--${name}=${spec.min! - 1}`], c.flags, c.name), /must be ≥/, `scd ${c.name} --${name}`);
    }
});

test("checkOutput has no side effects; writeDirAtomic leaves the old folder when filling fails", () => {
  const target = path.join(tmp, "a/b/c/out.json");
  checkOutput(target, { flag: "json", kind: "file" });
  assert.not.ok(fs.existsSync(path.join(tmp, "a")), "no folder created by the check");
  const dir = path.join(tmp, "atomic");
  writeDirAtomic(dir, (t) => fs.writeFileSync(path.join(t, "one"), "1"));
  assert.throws(() => writeDirAtomic(dir, () => {
    throw new Error("disk full");
  }), (e: Error) => e.message === "disk full");
  assert.equal(fs.readdirSync(dir), ["one"]);
  assert.equal(fs.readdirSync(tmp).filter((n) => n.startsWith(".atomic")), []);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
