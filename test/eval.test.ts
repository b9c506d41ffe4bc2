import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../src/envs/index.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { builtinPolicy } from "../src/policies/builtin.ts";
import { ReplayPolicy } from "../src/policies/replay.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { runEpisodeVirtual } from "../src/loop/runner.ts";
import { readDataset } from "../src/datasets/native.ts";
import { replayPushT } from "../src/envs/pusht/replay.ts";
import { scd, PUSHT_NATIVE } from "./helpers.ts";
import { TimeLimit } from "../src/envs/wrappers.ts";
import { PushTEnv } from "../src/envs/pusht/pusht.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-eval-"));

test("the reach expert succeeds in ≥ 95 % of 50 episodes through the control loop, recorded as a dataset", async () => {
  const rec = path.join(dir, "expert.scdd");
  const r = await evaluate({
    makeEnv: () => makeEnv("reach-obstacle-v1"),
    makePolicy: async () => builtinPolicy("expert", "reach-obstacle-v1", (await makeEnv("reach-obstacle-v1")).actionSpace),
    episodes: 50,
    seedStart: 100000,
    parallel: 7,
    loop: { strategy: { kind: "receding", execute: 1 }, latencyMs: 0 },
    recordPath: rec,
  });
  assert.ok(r.aggregated.pc_success >= 95, `success ${r.aggregated.pc_success} %`);
  assert.is(r.per_episode.length, 50);
  assert.equal(r.per_episode.map((p) => p.seed), Array.from({ length: 50 }, (_, i) => 100000 + i));
  assert.is(r.loop.misses, 0);
  const back = readDataset(rec).buffer;
  assert.is(back.episodeEnds.length, 50);
  assert.ok(back.schema["observation.state"] && back.schema.action && back.schema.timestamp && back.schema.action_is_fallback);
  assert.is(back.episodeEnds.at(-1), r.per_episode.reduce((a, p) => a + p.steps, 0));
});

test("replaying Push-T demonstrations through the loop reproduces the open-loop replay figures", async () => {
  const demos = readDataset(PUSHT_NATIVE).buffer;
  const episodes = [0, 1, 2, 3, 4, 5, 6, 7];
  const direct = replayPushT(demos, { episodes });
  const st = demos.data["observation.state"];
  for (const [i, k] of episodes.entries()) {
    const policy = new ReplayPolicy(demos);
    const len = demos.episodeEnds[k] - (k ? demos.episodeEnds[k - 1] : 0);
    // stop after the demonstration's own length; the time limit is longer
    const env = new TimeLimit(new PushTEnv({ obsMode: "state" }), len);
    const r = await runEpisodeVirtual(env, policy, k, { periodMs: 100, strategy: { kind: "receding", execute: 1 }, fallback: "hold", latencyMs: 0 });
    assert.is(r.steps, len);
    const s0 = k ? demos.episodeEnds[k - 1] : 0;
    const seen = r.episode["observation.state"] as Float32Array;
    let worst = 0;
    for (let t = 0; t < len; t++) worst = Math.max(worst, Math.hypot(seen[t * 5 + 2] - st[(s0 + t) * 5 + 2], seen[t * 5 + 3] - st[(s0 + t) * 5 + 3]));
    assert.ok(worst < 1e-3, `episode ${k}: block deviates ${worst} px from the recording`);
    const dc = Math.abs((r.finalInfo.coverage as number) - direct.perEpisode[i].finalCoverage);
    assert.ok(dc < 1e-4, `episode ${k}: final coverage differs by ${dc}`);
  }
});

test("scd eval --json - follows LeRobot's names and writes the plot and GIFs", () => {
  const gifs = path.join(dir, "gifs");
  const r = scd(["eval", "--policy", "expert", "--env", "reach-obstacle-v1", "--episodes", "6", "--json", "-", "--gif", gifs, "--gif-episodes", "2", "--plot", path.join(dir, "p.png")]);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ["avg_max_reward", "avg_sum_reward", "pc_success", "eval_s"]) assert.type(j.aggregated[k], "number", k);
  assert.is(j.per_episode.length, 6);
  assert.is(j.aggregated.pc_success, 100);
  assert.is(fs.readdirSync(gifs).length, 2);
  assert.ok(fs.statSync(path.join(dir, "p.png")).size > 1000);
  const bad = scd(["eval", "--policy", "expert", "--env", "pusht-v1", "--episodes", "1"]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /env "pusht-v1" has no scripted expert/);
  const bad2 = scd(["eval", "--policy", "nonsense", "--env", "pusht-v1"]);
  assert.match(bad2.stderr, /neither a built-in policy/);
});

test.run();
