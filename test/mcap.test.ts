/**
 * MCAP logs for Foxglove: `evaluate` with recordPath out.mcap, `scd dataset export --format mcap`, and `scd run
 * --record`, each read back with @mcap/core's readers (channels, schemas, message counts, log-time order); a
 * truncated file is reported, not crashed on.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../src/envs/index.ts";
import "../src/datasets/index.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { builtinPolicy } from "../src/policies/builtin.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { readDataset } from "../src/datasets/native.ts";
import { datasetFormat } from "../src/datasets/formats.ts";
import { concatEpisodes, getEpisode } from "../src/datasets/episodes.ts";
import { ScdError } from "../src/errors.ts";
import { readMcapSummary } from "../src/datasets/mcap/read.ts";
import { PUSHT_NATIVE, ROOT, scd } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-mcap-"));
const dec = new TextDecoder();

test("eval --record out.mcap: per tick observation + action, per chunk the prediction, in log-time order", async () => {
  const file = path.join(dir, "eval.mcap");
  const r = await evaluate({
    makeEnv: () => makeEnv("reach-obstacle-v1"),
    makePolicy: async () => builtinPolicy("expert", "reach-obstacle-v1", (await makeEnv("reach-obstacle-v1")).actionSpace),
    episodes: 3,
    seedStart: 100000,
    parallel: 3,
    loop: { strategy: { kind: "receding", execute: 1 }, latencyMs: 0 },
    recordPath: file,
  });
  const steps = r.per_episode.reduce((a, p) => a + p.steps, 0);
  const chunks: { episode: number; inference_ms: number; actions: number[][] }[] = [];
  const actions: { episode: number; tick: number; fallback: boolean }[] = [];
  const s = await readMcapSummary(file, (topic, _t, data) => {
    if (topic === "/policy/chunk") chunks.push(JSON.parse(dec.decode(data)));
    if (topic === "/action") actions.push(JSON.parse(dec.decode(data)));
  });
  assert.equal(Object.keys(s.channels).sort(), ["/action", "/observation/observation.state", "/policy/chunk"]);
  assert.is(s.channels["/action"].messages, steps);
  assert.is(s.channels["/observation/observation.state"].messages, steps);
  assert.is(s.channels["/action"].schema, "scd.Action");
  assert.is(s.channels["/action"].schemaEncoding, "jsonschema");
  assert.is(s.channels["/action"].messageEncoding, "json");
  // the reach expert plans one action (H = 1), executed at once: one chunk per tick
  for (const p of r.per_episode) {
    const n = chunks.filter((c) => c.episode === p.episode_ix).length;
    assert.ok(n >= p.steps && n <= p.steps + 1, `episode ${p.episode_ix}: ${n} chunks for ${p.steps} steps`);
  }
  assert.ok(chunks.every((c) => c.actions.length === 1 && c.actions[0].length === 2 && c.inference_ms >= 0), "chunks are [H = 1, 2]");
  assert.ok(actions.every((a) => a.fallback === false));
  assert.equal(actions.filter((a) => a.episode === 2).map((a) => a.tick), Array.from({ length: r.per_episode[2].steps }, (_, i) => i));
  assert.ok(s.monotonic, "log times never go back in file order");
  assert.ok(s.endNs > s.startNs);
  assert.is(s.metadata.scd.env, "reach-obstacle-v1");
});

test("dataset export --format mcap of a dataset (in-process and CLI); a truncated file is one clear error", async () => {
  const pusht = readDataset(PUSHT_NATIVE).buffer;
  const small = concatEpisodes(pusht.schema, [0, 1].map((k) => getEpisode(pusht, k)));
  const file = path.join(dir, "two.mcap");
  await datasetFormat("mcap", "write").write!(file, small, { fps: 10 });
  const s = await readMcapSummary(file);
  const n = small.episodeEnds[1];
  assert.equal(Object.keys(s.channels).sort(), ["/action", "/observation/observation.keypoints", "/observation/observation.n_contacts", "/observation/observation.state"]);
  for (const c of Object.values(s.channels)) assert.is(c.messages, n);
  assert.ok(s.monotonic);
  assert.is(Number(s.endNs - s.startNs) / 1e6, (n - 1) * 100, "10 fps on one time axis, episodes back to back");

  const trunc = path.join(dir, "trunc.mcap");
  fs.writeFileSync(trunc, fs.readFileSync(file).subarray(0, Math.floor(fs.statSync(file).size / 2)));
  try {
    await readMcapSummary(trunc);
    assert.unreachable("read a truncated file");
  } catch (e) {
    assert.instance(e, ScdError);
    assert.match((e as Error).message, /trunc\.mcap: not a readable MCAP file, truncated or corrupt/);
  }

  const cli = path.join(dir, "cli.mcap");
  const r = scd(["dataset", "export", PUSHT_NATIVE, "--format", "mcap", "--out", cli]);
  assert.is(r.code, 0, r.stderr);
  assert.is((await readMcapSummary(cli)).channels["/action"].messages, 25650);
  const bad = scd(["dataset", "export", PUSHT_NATIVE, "--format", "mcapp", "--out", path.join(dir, "x")]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /scd: error: no dataset format "mcapp" that can write \(did you mean "mcap"\?\)/);
});

test("scd run --record out.mcap logs a real-time run against the test server", async () => {
  const file = path.join(dir, "run.mcap");
  const r = scd(["run", "--policy", "expert", "--env", "reach-obstacle-v1", "--test-server", "--map", path.join(ROOT, "examples/ros/reach_map.json"), "--duration", "3", "--record", file]);
  assert.is(r.code, 0, r.stderr);
  const s = await readMcapSummary(file);
  assert.ok(s.channels["/action"].messages >= 10, `${s.channels["/action"].messages} ticks`);
  assert.ok(s.channels["/observation/observation.state"].messages >= 1);
  assert.ok(s.channels["/policy/chunk"].messages >= 1);
  assert.ok(s.monotonic);
  const wrong = scd(["run", "--policy", "expert", "--env", "reach-obstacle-v1", "--test-server", "--map", path.join(ROOT, "examples/ros/reach_map.json"), "--duration", "1", "--record", path.join(dir, "run.txt")]);
  assert.is(wrong.code, 2);
  assert.match(wrong.stderr, /--record .*run\.txt: scd run writes logs; name a file ending in \.mcap/);
});

test.run();
