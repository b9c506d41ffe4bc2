/**
 * LeRobot v3.0 in and out, on real data: the shipped Push-T demonstrations exported to a multi-chunk, multi-file
 * LeRobot directory and read back (identical arrays and episode boundaries), the metadata files checked with the
 * Parquet reader, and small hand-made broken variants for the errors.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parquetReadObjects } from "hyparquet";
import "../src/datasets/index.ts";
import { loadDataset } from "../src/datasets/load.ts";
import { readDataset } from "../src/datasets/native.ts";
import { computeStats } from "../src/datasets/normalizer.ts";
import type { EpisodeBuffer } from "../src/datasets/episodes.ts";
import { ScdError } from "../src/errors.ts";
import { writeLeRobot } from "../src/datasets/lerobot/write.ts";
import { PUSHT_NATIVE, scd } from "./helpers.ts";
import "../src/envs/index.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { builtinPolicy } from "../src/policies/builtin.ts";
import { evaluate } from "../src/eval/evaluate.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-lerobot-"));
const pusht = readDataset(PUSHT_NATIVE).buffer;
const parquet = async (f: string) => (await parquetReadObjects({ file: new Uint8Array(fs.readFileSync(f)).buffer })) as Record<string, unknown>[];

function assertSame(a: EpisodeBuffer, b: EpisodeBuffer): void {
  assert.equal(Object.keys(b.schema).sort(), Object.keys(a.schema).sort());
  assert.equal(Array.from(b.episodeEnds), Array.from(a.episodeEnds), "episode boundaries");
  for (const k of Object.keys(a.schema)) {
    assert.equal(b.schema[k].shape, a.schema[k].shape, `${k} shape`);
    const x = a.data[k], y = b.data[k];
    assert.is(y.length, x.length, `${k} length`);
    let bad = -1;
    for (let i = 0; i < x.length && bad < 0; i++) if (x[i] !== y[i]) bad = i;
    assert.is(bad, -1, `${k} differs at ${bad}`);
  }
}

/** The first n demonstrations: small fixtures for the error cases. */
function small(n: number): EpisodeBuffer {
  // the first n episodes, sliced straight from the flat arrays (a fresh copy each time)
  const total = pusht.episodeEnds[pusht.episodeEnds.length - 1], end = pusht.episodeEnds[n - 1];
  const data = Object.fromEntries(Object.entries(pusht.data).map(([k, v]) => [k, v.slice(0, (end * v.length) / total)]));
  return { schema: structuredClone(pusht.schema), data, episodeEnds: pusht.episodeEnds.slice(0, n) } as EpisodeBuffer;
}

async function variant(name: string, n = 3, opts: Parameters<typeof writeLeRobot>[2] = {}): Promise<string> {
  const p = path.join(dir, name);
  await writeLeRobot(p, small(n), { fps: 10, ...opts });
  return p;
}

async function refused(p: string, needle: RegExp): Promise<void> {
  try {
    await loadDataset(p);
  } catch (e) {
    assert.instance(e, ScdError, String(e));
    assert.match((e as Error).message, needle);
    return;
  }
  assert.unreachable(`${p} was read`);
}

test("Push-T demonstrations → LeRobot v3.0 (3 chunks × 2 files) → back: identical arrays and episode boundaries", async () => {
  const out = path.join(dir, "pusht");
  await writeLeRobot(out, pusht, { fps: 10, task: "Push the T-shaped block onto the T-shaped target.", maxFramesPerFile: 5000, chunksSize: 2 });
  const files = ["data/chunk-000/file-000.parquet", "data/chunk-000/file-001.parquet", "data/chunk-001/file-000.parquet", "data/chunk-002/file-001.parquet"];
  for (const f of files) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.not.ok(fs.existsSync(path.join(out, "data/chunk-003")));
  const back = await loadDataset(out);
  assert.is(back.kind, "lerobot");
  assertSame(pusht, back.buffer);
});

test("the metadata lerobot reads: info.json, stats.json, episodes and tasks Parquet, frame table columns", async () => {
  const out = path.join(dir, "pusht");
  const info = JSON.parse(fs.readFileSync(path.join(out, "meta/info.json"), "utf8"));
  assert.is(info.codebase_version, "v3.0");
  assert.is(info.total_episodes, 206);
  assert.is(info.total_frames, 25650);
  assert.is(info.fps, 10);
  assert.is(info.data_path, "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet");
  assert.equal(info.features["observation.keypoints"], { dtype: "float32", shape: [9, 2], names: null });
  assert.equal(info.features.episode_index, { dtype: "int64", shape: [1], names: null });
  const stats = JSON.parse(fs.readFileSync(path.join(out, "meta/stats.json"), "utf8"));
  const s = computeStats(pusht.data.action, 2);
  assert.equal(stats.action, { min: s.min, max: s.max, mean: s.mean, std: s.std, count: [25650] });
  assert.is(stats["observation.keypoints"].mean.length, 9, "stats keep the feature's shape");
  const eps = await parquet(path.join(out, "meta/episodes/chunk-000/file-000.parquet"));
  assert.is(eps.length, 206);
  assert.equal(eps[1].tasks, ["Push the T-shaped block onto the T-shaped target."]);
  assert.is(Number(eps[1].dataset_from_index), pusht.episodeEnds[0]);
  assert.is(Number(eps[205].dataset_to_index), 25650);
  assert.is(Number(eps[205]["data/chunk_index"]), 2);
  const tasks = await parquet(path.join(out, "meta/tasks.parquet"));
  assert.equal(tasks.map((t) => [t.task, Number(t.task_index)]), [["Push the T-shaped block onto the T-shaped target.", 0]]);
  const rows = await parquet(path.join(out, "data/chunk-000/file-001.parquet"));
  const r = rows[0];
  assert.equal(Object.keys(r), ["action", "observation.keypoints", "observation.n_contacts", "observation.state", "timestamp", "frame_index", "episode_index", "index", "task_index"]);
  assert.is((r["observation.keypoints"] as number[][]).length, 9, "a [9, 2] feature is a list of lists");
  assert.is(Number(r.frame_index), 0);
  assert.is(Number(r.index), Number(r.episode_index) > 0 ? pusht.episodeEnds[Number(r.episode_index) - 1] : 0);
});

test("CLI: export, inspect and import a LeRobot directory; the import equals the source", () => {
  const out = path.join(dir, "cli-lerobot"), back = path.join(dir, "back.scdd");
  let r = scd(["dataset", "export", PUSHT_NATIVE, "--format", "lerobot", "--out", out]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /206 episodes, 25650 frames at 10 fps/);
  r = scd(["dataset", "inspect", out, "--json"]);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.is(j.kind, "lerobot");
  assert.is(j.episodes, 206);
  assert.is(j.steps, 25650);
  r = scd(["dataset", "import", out, back]);
  assert.is(r.code, 0, r.stderr);
  assertSame(pusht, readDataset(back).buffer);
  r = scd(["dataset", "inspect", path.join(dir, "nope")]);
  assert.is(r.code, 2);
});

test("a feature under one of LeRobot's reserved column names (index) round-trips as scd.index", async () => {
  const b = small(2);
  const n = b.episodeEnds.at(-1)!;
  b.schema.index = { shape: [1] };
  b.data.index = Float32Array.from({ length: n }, (_, i) => 1000 + i);
  const p = path.join(dir, "reserved");
  await writeLeRobot(p, b, { fps: 10 });
  assertSame(b, (await loadDataset(p)).buffer);
  const info = JSON.parse(fs.readFileSync(path.join(p, "meta/info.json"), "utf8"));
  assert.ok(info.features["scd.index"], "our 'index' feature moved aside");
});

test("a rollout recorded by eval (--record .scdd) exports to LeRobot and reads back identically", async () => {
  const rec = path.join(dir, "rollouts.scdd");
  await evaluate({
    makeEnv: () => makeEnv("reach-obstacle-v1"),
    makePolicy: async () => builtinPolicy("expert", "reach-obstacle-v1", (await makeEnv("reach-obstacle-v1")).actionSpace),
    episodes: 2, seedStart: 0, loop: { strategy: { kind: "receding", execute: 1 }, latencyMs: 0 }, recordPath: rec,
  });
  const { buffer, header } = readDataset(rec);
  assert.is(header.meta.fps, 10);
  const out = path.join(dir, "rollouts");
  await writeLeRobot(out, buffer, { fps: 10, task: "reach the goal around the obstacle" });
  assert.ok(JSON.parse(fs.readFileSync(path.join(out, "meta/info.json"), "utf8")).features["scd.timestamp"], "the loop's own timestamps are kept aside");
  assertSame(buffer, (await loadDataset(out)).buffer);
});

test("bad input: one clear error naming the file and the field", async () => {
  const noInfo = await variant("no-info");
  fs.rmSync(path.join(noInfo, "meta/info.json"));
  await refused(noInfo, /no-info\/meta\/info\.json: missing/);

  const trunc = await variant("truncated");
  const f = path.join(trunc, "data/chunk-000/file-000.parquet");
  fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 3000));
  await refused(trunc, /truncated\/data\/chunk-000\/file-000\.parquet: not a readable Parquet file, truncated or corrupt/);

  const shape = await variant("shape");
  const info = JSON.parse(fs.readFileSync(path.join(shape, "meta/info.json"), "utf8"));
  info.features["observation.state"].shape = [6];
  fs.writeFileSync(path.join(shape, "meta/info.json"), JSON.stringify(info));
  await refused(shape, /shape\/data\/chunk-000\/file-000\.parquet: feature "observation\.state" row 0 has 5 values but meta\/info\.json declares shape \[6\]/);

  // one episode per file; removing the middle file leaves episodes 0 and 2
  const gap = await variant("gap", 3, { maxFramesPerFile: 1 });
  fs.rmSync(path.join(gap, "data/chunk-000/file-001.parquet"));
  await refused(gap, /gap\/data\/chunk-000\/file-002\.parquet: episode_index is not contiguous: row 0 has episode 2 after episode 0/);

  const missingCol = await variant("column");
  const info2 = JSON.parse(fs.readFileSync(path.join(missingCol, "meta/info.json"), "utf8"));
  info2.features["observation.velocity"] = { dtype: "float32", shape: [2], names: null };
  fs.writeFileSync(path.join(missingCol, "meta/info.json"), JSON.stringify(info2));
  await refused(missingCol, /file-000\.parquet: column "observation\.velocity" is missing/);

  for (const [v, needle] of [["v2.1", /codebase_version "v2\.1" is the LeRobot v2\.x layout/], ["v4.0", /unknown codebase_version "v4\.0"; supported: v3\.0/]] as const) {
    const p = await variant(`version-${v}`, 1);
    const i = JSON.parse(fs.readFileSync(path.join(p, "meta/info.json"), "utf8"));
    i.codebase_version = v;
    fs.writeFileSync(path.join(p, "meta/info.json"), JSON.stringify(i));
    await refused(p, needle);
  }
});

test("CLI: bad LeRobot input is one `scd: error:` line and exit 2", () => {
  for (const [p, needle] of [[path.join(dir, "no-info"), /^scd: error: .*no-info\/meta\/info\.json: missing/], [path.join(dir, "truncated"), /^scd: error: .*file-000\.parquet: not a readable Parquet file/]] as const) {
    const r = scd(["dataset", "inspect", p]);
    assert.is(r.code, 2, r.stderr);
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr.trim(), needle);
  }
});

test.run();
