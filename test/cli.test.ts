import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scd, userError, PUSHT_NATIVE, PUSHT_ZARR } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-cli-"));

test("inspect --json of the shipped native Push-T demonstrations", () => {
  const r = scd(["dataset", "inspect", PUSHT_NATIVE, "--json"]);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.is(j.episodes, 206);
  assert.is(j.steps, 25650);
  assert.equal(j.features["observation.keypoints"].shape, [9, 2]);
  assert.is(j.features["observation.state"].mean.length, 5);
});

test("Zarr inspect, import, and native inspect give identical statistics", () => {
  if (!fs.existsSync(PUSHT_ZARR)) {
    console.log("  skipped: ../shared/datasets/pusht_cchi_v7_replay.zarr is absent");
    return;
  }
  const z = scd(["dataset", "inspect", PUSHT_ZARR, "--json"]);
  assert.is(z.code, 0, z.stderr);
  const out = path.join(dir, "pusht.scdd");
  const imp = scd(["dataset", "import", PUSHT_ZARR, out]);
  assert.is(imp.code, 0, imp.stderr);
  const n = scd(["dataset", "inspect", out, "--json"]);
  const a = JSON.parse(z.stdout), b = JSON.parse(n.stdout);
  assert.is(a.episodes, 206);
  assert.is(a.steps, 25650);
  for (const k of ["episodes", "steps", "episodeLength", "features"]) assert.equal(b[k], a[k], k);
  userError(["dataset", "import", PUSHT_ZARR, out], /exists; pass --force/);
});

test("bad input gives one clear line and exit 2", () => {
  const trunc = path.join(dir, "trunc.scdd");
  fs.writeFileSync(trunc, fs.readFileSync(PUSHT_NATIVE).subarray(0, 5000));
  userError(["dataset", "inspect", trunc], /trunc\.scdd: truncated/);
  const junk = path.join(dir, "junk.scdd");
  fs.writeFileSync(junk, "garbage");
  userError(["dataset", "inspect", junk], /not an scd dataset/);
  userError(["dataset", "inspect", path.join(dir, "nope.scdd")], /nope\.scdd: no such file/);
  userError(["dataset", "inspect", PUSHT_NATIVE, "--jsno"], /unknown flag --jsno.*did you mean --json/);
  userError(["datset", "inspect"], /unknown command "datset inspect"/);
  userError(["dataset", "inspect"], /needs 1 argument/);
  userError(["info", "--backend", "quantum"], /unknown backend "quantum"/);
  // numbers out of range are refused before anything runs (they used to score 0 or crash as internal errors)
  userError(["eval", "--policy", "expert", "--steps", "0"], /--steps of "scd eval" must be ≥ 1, got 0/);
  userError(["eval", "--policy", "expert", "--parallel", "-4"], /--parallel of "scd eval" must be ≥ 1, got -4/);
  userError(["eval", "--policy", "expert", "--seed-start", "-1"], /--seed-start of "scd eval" must be ≥ 0, got -1/);
  userError(["eval", "--policy", "expert", "--deadline-ms", "-5"], /--deadline-ms of "scd eval" must be ≥ 0/);
  // an output that cannot be written is refused before the evaluation runs (it used to fail after it)
  fs.writeFileSync(path.join(dir, "afile"), "");
  userError(["eval", "--policy", "expert", "--env", "reach-obstacle-v1", "--episodes", "1", "--json", path.join(dir, "afile", "r.json")], /--json .*afile\/r\.json: .*afile is a file, not a folder$/);
  userError(["eval", "--policy", "expert", "--env", "reach-obstacle-v1", "--episodes", "1", "--json", dir], /--json .*: is a directory$/);
  userError(["eval", "--policy", "expert", "--env", "reach-obstacle-v1", "--episodes", "1", "--gif", path.join(dir, "afile", "gifs")], /--gif .*afile\/gifs: .*afile is a file, not a folder$/);
  userError(["eval", "--policy", "expert", "--env", "reach-obstacle-v1", "--episodes", "1", "--json", "/proc/r.json"], /--json \/proc\/r\.json: cannot write in \/proc \(/);
  assert.not.ok(fs.existsSync(path.join(dir, "never")), "a refused eval makes no folders");
  userError(["eval", "--policy", "expert", "--env", "reach-obstacle-v1", "--episodes", "1", "--json", path.join(dir, "never", "deep", "r.json"), "--gif", path.join(dir, "afile")], /--gif .*afile: is a file, not a folder$/);
  assert.not.ok(fs.existsSync(path.join(dir, "never")), "a refused eval makes no folders");
  userError(["web", "--port", "99999"], /--port must be 0\.\.65535, got 99999/);
  // a Zarr store with a missing array
  const z = path.join(dir, "broken.zarr");
  fs.mkdirSync(path.join(z, "data/state"), { recursive: true });
  fs.mkdirSync(path.join(z, "meta"), { recursive: true });
  fs.writeFileSync(path.join(z, ".zgroup"), '{"zarr_format":2}');
  userError(["dataset", "inspect", z], /missing or unreadable array "meta\/episode_ends"/);
});

test("info names the backend, and --backend cpu is honoured", () => {
  const r = scd(["info", "--json"]);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.is(j.backend, "wasm");
  assert.is(j.wasmSimd, true);
  assert.is(j.wasmPatches, true);
  assert.is(j.skipped.length, 2);
  const c = JSON.parse(scd(["info", "--json"], { SCD_BACKEND: "cpu" }).stdout);
  assert.is(c.backend, "cpu");
});

test("scd start: bad flags are one clear error (the report itself: test/start-report.test.ts, test/web-report.test.ts)", () => {
  userError(["start", "--minutes", "0"], /flag --minutes of "scd start" must be ≥ 0\.1, got 0/);
  userError(["start", "--checkpoint", path.join(dir, "none")], /none: not a checkpoint \(no checkpoint\.json\)/);
});

test.run();
