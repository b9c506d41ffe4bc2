import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../src/envs/index.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { builtinPolicy } from "../src/policies/builtin.ts";
import { evaluate, type EvalReport } from "../src/eval/evaluate.ts";
import { parseShard, shardFromEnv, shardSlice, shardPath } from "../src/eval/shard.ts";
import { mergeShardReports } from "../src/eval/merge.ts";
import { expandLoopEvents } from "../src/eval/loop-events.ts";
import { summarizeLoop } from "../src/loop/metrics.ts";
import { scd } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-shard-"));
const ENV = "reach-obstacle-v1", EPISODES = 9, SEED0 = 100000;
const settings = { latency: 0, strategy: "receding" };

const run = (seedStart: number, episodes: number, ix0: number, parallel: number) =>
  evaluate({
    makeEnv: () => makeEnv(ENV),
    makePolicy: async () => builtinPolicy("expert", ENV, (await makeEnv(ENV)).actionSpace),
    episodes, seedStart, parallel, episodeIxStart: ix0, keepLoopEvents: true,
    loop: { strategy: { kind: "receding", execute: 1 }, latencyMs: 0 },
  });
/** What `scd eval --shard` writes, through a JSON round trip. */
const shardDoc = (r: EvalReport, index: number, count: number, extra: Record<string, unknown> = {}) =>
  JSON.parse(JSON.stringify({ env: ENV, policy: "expert", seed_start: SEED0, ...r, shard: { index, count, episodes: EPISODES, settings: { ...settings, ...extra } } }));
/** Everything but wall-clock timings (eval_s, and measured inference times) must be identical. */
const comparable = (r: { aggregated: object; per_episode: unknown; loop: { inferenceMs: { count: number } } }) => {
  const { eval_s: _a, eval_ep_s: _b, ...agg } = r.aggregated as Record<string, number>;
  return { agg, per_episode: r.per_episode, loop: { ...r.loop, inferenceMs: r.loop.inferenceMs.count } };
};

test("shard K/N: parsing, disjoint contiguous slices covering every episode, Slurm and Kubernetes variables", () => {
  assert.equal(parseShard("2/4"), { index: 2, count: 4 });
  for (const bad of ["4/4", "1", "a/b", "-1/3", "0/0"]) assert.throws(() => parseShard(bad), /--shard/, bad);
  for (const [e, n] of [[9, 1], [9, 3], [9, 4], [50, 7], [5, 5]]) {
    const covered = Array.from({ length: n }, (_, k) => shardSlice(e, { index: k, count: n })).flatMap((s) => Array.from({ length: s.count }, (_, i) => s.start + i));
    assert.equal(covered, Array.from({ length: e }, (_, i) => i), `${e} episodes in ${n} shards`);
  }
  assert.throws(() => shardSlice(3, { index: 0, count: 4 }), /4 shards for 3 episodes/);
  assert.is(shardPath("out/eval.json", { index: 2, count: 4 }), "out/eval.shard-2-of-4.json");
  assert.is(shardPath("out/rec.scdd", { index: 0, count: 2 }), "out/rec.shard-0-of-2.scdd");
  assert.is(shardFromEnv({}), null);
  assert.equal(shardFromEnv({ SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "0", SLURM_ARRAY_TASK_MAX: "3" })?.index, 3);
  // --array=1-4 is shard 0..3
  assert.equal(shardFromEnv({ SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_MAX: "4" })?.index, 0);
  assert.throws(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "2", SLURM_ARRAY_TASK_MIN: "0", SLURM_ARRAY_TASK_MAX: "2" }), /has gaps/);
  assert.equal(shardFromEnv({ JOB_COMPLETION_INDEX: "1" }, 3), { index: 1, count: 3, source: "JOB_COMPLETION_INDEX=1 of --shards 3" });
  assert.throws(() => shardFromEnv({ JOB_COMPLETION_INDEX: "1" }), /pass --shards N/);
  assert.throws(() => shardFromEnv({ JOB_COMPLETION_INDEX: "3" }, 3), /must be < --shards 3/);
});

test("merged shards equal the single run for N = 1, 3, 4 (rows in seed order, aggregates, loop summary)", async () => {
  const single = await run(SEED0, EPISODES, 0, 4);
  // the compact loop events summarize exactly like the live ones, after a JSON round trip
  assert.equal(summarizeLoop(expandLoopEvents(JSON.parse(JSON.stringify(single.loop_events)))), single.loop);
  for (const n of [1, 3, 4]) {
    const docs = [];
    for (let k = 0; k < n; k++) {
      const s = shardSlice(EPISODES, { index: k, count: n });
      docs.push({ file: `s${k}.json`, json: shardDoc(await run(SEED0 + s.start, s.count, s.start, 2), k, n) });
    }
    const merged = mergeShardReports(docs.reverse()); // any order of files
    assert.equal(comparable(merged), comparable(single), `N = ${n}`);
    assert.equal(merged.per_episode.map((p) => p.seed), Array.from({ length: EPISODES }, (_, i) => SEED0 + i));
    assert.equal(Object.keys(merged), ["env", "policy", "seed_start", "settings", "aggregated", "per_episode", "loop", "files"]); // as scd eval --json writes
    assert.equal(merged.settings, (docs[0].json as { shard: { settings: unknown } }).shard.settings);
  }
});

test("merge refuses missing, duplicated and mismatched shards, naming the files", async () => {
  const parts = [0, 1, 2].map((k) => shardSlice(EPISODES, { index: k, count: 3 }));
  const reps = await Promise.all(parts.map((s) => run(SEED0 + s.start, s.count, s.start, 3)));
  const ok = reps.map((r, k) => ({ file: `eval.shard-${k}-of-3.json`, json: shardDoc(r, k, 3) }));
  assert.throws(() => mergeShardReports([ok[0], ok[2]]), (e: Error) => /missing shard\(s\) 1\/3 \(seeds 100003\.\.100005\)/.test(e.message));
  assert.throws(() => mergeShardReports([...ok, { ...ok[1], file: "copy.json" }]), (e: Error) => /shard 1\/3 given twice: eval\.shard-1-of-3\.json and copy\.json/.test(e.message));
  const lat = { file: "other.json", json: shardDoc(reps[2], 2, 3, { latency: 5 }) };
  assert.throws(() => mergeShardReports([ok[0], ok[1], lat]), (e: Error) => /other\.json: shard\.settings\.latency is 5, but eval\.shard-0-of-3\.json has 0/.test(e.message));
  const n4 = { file: "four.json", json: { ...shardDoc(reps[2], 2, 3), shard: { ...shardDoc(reps[2], 2, 3).shard, count: 4 } } };
  assert.throws(() => mergeShardReports([ok[0], ok[1], n4]), (e: Error) => /four\.json: shard\.count is 4/.test(e.message));
  const wrongRows = { file: "rows.json", json: shardDoc(reps[1], 2, 3) }; // shard 1's rows labelled shard 2
  assert.throws(() => mergeShardReports([ok[0], ok[1], wrongRows]), (e: Error) => /rows\.json: shard 2\/3 should hold seeds 100006\.\.100008/.test(e.message));
  const { shard: _s, ...plain } = ok[0].json;
  assert.throws(() => mergeShardReports([{ file: "plain.json", json: plain }]), (e: Error) => /plain\.json: not a shard report/.test(e.message));
});

test("scd eval --shard / Slurm variables write one JSON per shard; scd eval merge gives the single run's report", () => {
  const base = ["eval", "--policy", "expert", "--env", ENV, "--episodes", "5", "--latency", "0", "--json"];
  const noArray = { SLURM_ARRAY_TASK_ID: "", JOB_COMPLETION_INDEX: "" }; // in case the tests themselves run in an array job
  const single = scd([...base, path.join(dir, "single.json")], noArray);
  assert.is(single.code, 0, single.stderr);
  const a = scd([...base, path.join(dir, "eval.json"), "--shard", "0/2"]);
  assert.is(a.code, 0, a.stderr);
  const b = scd([...base, path.join(dir, "eval.json")], { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "2" });
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /shard 1\/2 \(SLURM_ARRAY_TASK_ID=1 of SLURM_ARRAY_TASK_COUNT=2\): episodes 2\.\.4 of 5/);
  const files = [1, 0].map((k) => path.join(dir, `eval.shard-${k}-of-2.json`));
  const m = scd(["eval", "merge", ...files, "--json", path.join(dir, "merged.json")]);
  assert.is(m.code, 0, m.stderr);
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
  assert.equal(comparable(read("merged.json")), comparable(read("single.json")));
  assert.ok(fs.statSync(path.join(dir, "merged_scores.png")).size > 1000);
  const miss = scd(["eval", "merge", files[0], "--json", "-"]);
  assert.is(miss.code, 2);
  assert.match(miss.stderr, /^scd: error: missing shard\(s\) 0\/2 \(seeds 100000\.\.100001\)/);
  const k8s = scd([...base, "-"], { SLURM_ARRAY_TASK_ID: "", JOB_COMPLETION_INDEX: "0" });
  assert.is(k8s.code, 2);
  assert.match(k8s.stderr, /JOB_COMPLETION_INDEX is set \(0\); pass --shards N/);
});

test.run();
