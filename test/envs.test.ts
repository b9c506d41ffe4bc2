import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../src/envs/index.ts";
import { envIds, makeEnv, envSpec } from "../src/envs/registry.ts";
import { checkEnv } from "../src/envs/check.ts";
import { VectorEnv } from "../src/envs/vector.ts";
import { rollout } from "../src/eval/rollout.ts";
import { builtinPolicy } from "../src/policies/builtin.ts";
import { writeGif, writePng } from "../src/util/image.ts";
import { scd } from "./helpers.ts";

test("every registered env passes checkEnv", async () => {
  assert.ok(envIds().length >= 2);
  for (const id of envIds()) checkEnv(await makeEnv(id));
});

test("robustness 10: seeded then unseeded resets are reproducible (each env owns its generator)", async () => {
  for (const id of envIds()) {
    const chain = async () => {
      const env = await makeEnv(id);
      return [env.reset({ seed: 5 }), env.reset(), env.reset()].map((r) => Object.values(r.obs).flatMap((v) => Array.from(v)));
    };
    const [a, b] = [await chain(), await chain()];
    assert.equal(b, a, `${id}: two fresh envs, reset({seed: 5}), reset(), reset()`);
    assert.not.equal(a[1], a[0], `${id}: reset() continues the generator instead of repeating seed 5`);
    assert.not.equal(a[2], a[1], id);
  }
});

test("unknown env id names the nearest ids", async () => {
  try {
    await makeEnv("pusht-v9");
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /unknown env "pusht-v9" \(did you mean "pusht-v1"\?\)/);
  }
  assert.throws(() => envSpec("reach-v1"), /registered: arm-push-v1, pusht-image-v1, pusht-v1, reach-obstacle-v1/);
});

test("every registered env reports the id it was made as (pusht-image-v1 is not pusht-v1)", async () => {
  for (const id of ["pusht-v1", "pusht-image-v1", "reach-obstacle-v1"]) assert.is((await makeEnv(id)).id, id);
});

test("vector env steps N copies in one call and freezes finished ones", async () => {
  const envs = await Promise.all([0, 1, 2].map(() => makeEnv("reach-obstacle-v1")));
  const v = new VectorEnv(envs);
  const first = v.reset([0, 1, 2]);
  assert.is(first.length, 3);
  // env 0 gets a no-op; steps are independent per env
  const r = v.step([[0, 0], [0, 1], [0, -1]]);
  assert.ok(r.every((x) => x.active));
  assert.is(r[0].obs["observation.state"][1], first[0].obs["observation.state"][1]);
  assert.ok(r[1].obs["observation.state"][1] > first[1].obs["observation.state"][1]);
  let guard = 0;
  while (!v.allDone && guard++ < 200) v.step([[0, 0], [0, 1], [0, 0]]);
  assert.ok(v.allDone);
  const after = v.step([[0, 0], [0, 0], [0, 0]]);
  assert.ok(after.every((x) => !x.active));
});

test("the reach expert succeeds and takes both sides", async () => {
  const env = await makeEnv("reach-obstacle-v1");
  const expert = await builtinPolicy("expert", "reach-obstacle-v1", env.actionSpace);
  let succ = 0, left = 0;
  for (let s = 0; s < 60; s++) {
    const r = await rollout(env, expert, s);
    if (r.success) succ++;
    if ((r.episode["observation.state"] as Float32Array).some((x, i) => i % 2 === 0 && x < -0.3)) left++;
  }
  assert.ok(succ >= 57, `expert success ${succ}/60`);
  assert.ok(left >= 18 && left <= 42, `left side taken ${left}/60`);
});

test("a policy that goes straight up (the average of both modes) fails the multimodal task", async () => {
  const env = await makeEnv("reach-obstacle-v1");
  const straight = { name: "straight", horizon: 1, actionDim: 2, reset() {}, observe() {}, sampleChunk: () => Float32Array.from([0, 1]) };
  let succ = 0;
  for (let s = 0; s < 10; s++) if ((await rollout(env, straight, s)).success) succ++;
  assert.is(succ, 0);
});

test("render writes a PNG and a rollout GIF; collect writes a dataset (real CLI)", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-env-"));
  const env = await makeEnv("pusht-v1");
  env.reset({ seed: 0 });
  writePng(path.join(dir, "a.png"), env.render());
  assert.equal([...fs.readFileSync(path.join(dir, "a.png")).subarray(1, 4)], [...Buffer.from("PNG")]);
  writeGif(path.join(dir, "a.gif"), [env.render(), env.step([300, 300]).obs && env.render()]);
  assert.is(fs.readFileSync(path.join(dir, "a.gif")).subarray(0, 6).toString(), "GIF89a");
  const out = path.join(dir, "reach.scdd");
  const r = scd(["collect", "reach-obstacle-v1", "--policy", "expert", "--episodes", "5", "--out", out]);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(scd(["dataset", "inspect", out, "--json"]).stdout);
  assert.is(j.episodes, 5);
  assert.equal(Object.keys(j.features).sort(), ["action", "observation.state"]);
  const reset = JSON.parse(scd(["env", "reset", "pusht-v1", "--seed", "0", "--json"]).stdout);
  assert.equal(reset.resetState, [222, 97, 217, 292, 3.0079994677219553]);
  assert.is(reset.seed, 0);
});

test.run();
