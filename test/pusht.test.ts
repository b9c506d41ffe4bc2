import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { RandomState, pushtResetState } from "../src/envs/pusht/random-state.ts";
import { coverage, T_AREA, polyArea, clipConvex, T_PARTS } from "../src/envs/pusht/geometry.ts";
import { PushTEnv, LOCAL_KEYPOINTS } from "../src/envs/pusht/pusht.ts";
import { replayPushT, quantile } from "../src/envs/pusht/replay.ts";
import { readDataset } from "../src/datasets/native.ts";
import { SHARED, PUSHT_NATIVE } from "./helpers.ts";

const demos = readDataset(PUSHT_NATIVE).buffer;

test("RandomState port reproduces numpy's draws for the shipped fixture seeds exactly", () => {
  const fixture = path.join(SHARED, "fixtures/pusht_reset_states.json");
  const expected: Record<string, number[]> = fs.existsSync(fixture)
    ? JSON.parse(fs.readFileSync(fixture, "utf8"))
    : { "0": [222, 97, 217, 292, 3.0079994677219553] }; // same values, for a checkout without ../shared
  for (const [seed, state] of Object.entries(expected)) assert.equal(pushtResetState(Number(seed)), state, `seed ${seed}`);
});

test("MT19937 matches the reference first outputs for seed 5489 and numpy's random_sample for seed 0", () => {
  const rs = new RandomState(5489);
  assert.is(rs.nextUint32(), 3499211612); // the reference mt19937 default-seed output
  assert.is(new RandomState(0).randomSample(), 0.5488135039273248); // np.random.RandomState(0).random_sample()
});

test("coverage: same pose = 1, disjoint = 0, a hand-computed partial overlap", () => {
  assert.ok(Math.abs(coverage(256, 256, Math.PI / 4) - 1) < 1e-12);
  assert.is(coverage(50, 50, 0), 0);
  // goal at angle 0: shifting the block right by 10 px along x at angle 0
  // bar overlap (120-10)*30 = 3300, stem overlap (30-10)*90 = 1800, bar-of-block ∩ stem-of-goal: 0 (different y bands)
  const goal: [number, number, number] = [256, 256, 0];
  assert.ok(Math.abs(coverage(266, 256, 0, goal) - (3300 + 1800) / T_AREA) < 1e-12);
  // shift down by 30: block bar (y 30..60) overlaps goal stem (x -15..15) -> 30*30 = 900; block stem (y 60..150) ∩ goal stem (y 30..120) -> 30*60
  assert.ok(Math.abs(coverage(256, 286, 0, goal) - (900 + 1800) / T_AREA) < 1e-12);
  assert.is(polyArea(clipConvex(T_PARTS[0], T_PARTS[1])), 0);
});

test("legacy setter: state [0, 10, 20, 30, 1.0] puts the block origin at (57.866, 50.686)", () => {
  const env = new PushTEnv({ obsMode: "state" });
  env.setState([0, 10, 20, 30, 1.0], "legacy");
  const s = env.getState();
  assert.ok(Math.abs(s[2] - 57.866) < 1e-3 && Math.abs(s[3] - 50.686) < 1e-3, `got ${s[2]}, ${s[3]}`);
  env.setState([0, 10, 20, 30, 1.0], "exact");
  assert.ok(Math.abs(env.getState()[2] - 20) < 1e-9 && Math.abs(env.getState()[3] - 30) < 1e-9);
});

test("reset(seed = k) with the legacy setter equals demonstration k's first recorded state, for all 206", () => {
  const r = replayPushT(demos, { episodes: [...Array(206).keys()].filter((k) => k % 1 === 0) });
  assert.is(r.resetMatches, 206);
});

test("the 9 keypoint local coordinates agree with the dataset's keypoint array", () => {
  const st = demos.data["observation.state"], kp = demos.data["observation.keypoints"];
  const env = new PushTEnv({ obsMode: "keypoints" });
  const errs: number[] = [];
  for (let t = 0; t < 25650; t += 7) {
    env.setState(Array.from(st.subarray(t * 5, t * 5 + 5)), "exact");
    // setState runs one physics step; compare against the pose it reports
    const s = env.getState();
    const c = Math.cos(s[4]), sn = Math.sin(s[4]);
    for (let k = 0; k < 9; k++) {
      const [lx, ly] = LOCAL_KEYPOINTS[k];
      errs.push(Math.hypot(s[2] + c * lx - sn * ly - kp[t * 18 + 2 * k], s[3] + sn * lx + c * ly - kp[t * 18 + 2 * k + 1]));
    }
  }
  assert.ok(quantile(errs, 0.5) < 0.01, `median keypoint error ${quantile(errs, 0.5)} px`);
  assert.ok(quantile(errs, 0.99) < 0.05, `p99 keypoint error ${quantile(errs, 0.99)} px`);
});

test("a short demonstration replay follows the recorded block to float32 precision", () => {
  const r = replayPushT(demos, { episodes: [0, 1, 2] });
  assert.ok(r.positionErrorPx.p90 < 1e-3, `p90 ${r.positionErrorPx.p90}`);
  assert.ok(r.angleErrorRad.p90 < 1e-5);
});

test("bad actions: NaN and wrong length throw a clear error; out of range is clipped by the registered wrapper", async () => {
  const env = new PushTEnv();
  env.reset({ seed: 1 });
  assert.throws(() => env.step([NaN, 1]), /pusht-v1: action \[NaN, 1\] is not finite/);
  assert.throws(() => env.step([1, 2, 3]), /must have 2 values/);
  const { makeEnv } = await import("../src/envs/registry.ts");
  await import("../src/envs/index.ts");
  const wrapped = await makeEnv("pusht-v1", { obsMode: "state" });
  wrapped.reset({ seed: 3 });
  const a = wrapped.step([5000, -20]).obs["observation.state"];
  const raw = new PushTEnv({ obsMode: "state" });
  raw.reset({ seed: 3 });
  const b = raw.step([512, 0]).obs["observation.state"];
  assert.equal(Array.from(a), Array.from(b));
});

test("success is terminated, the time limit is truncated, and they are distinct", async () => {
  const { makeEnv } = await import("../src/envs/registry.ts");
  const env = await makeEnv("pusht-v1");
  env.reset({ seed: 0, options: { state: [100, 100, 256, 256, Math.PI / 4], setter: "exact" } });
  const r = env.step([100, 100]);
  assert.ok(r.terminated && !r.truncated && r.reward === 1 && r.info.isSuccess);
  env.reset({ seed: 0 });
  let last = env.step([50, 50]);
  let n = 1;
  while (!last.truncated && !last.terminated) (last = env.step([50, 50])), n++;
  assert.is(n, 300);
  assert.ok(last.truncated && !last.terminated);
});

test.run();
