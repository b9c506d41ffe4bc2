/**
 * Push-T control steps per second (10 physics substeps each), single env and a vector of 16, on one core; and
 * arm-push-v1 on MuJoCo's wasm module (50 substeps of 2 ms and 50 IK steps per control step): steps/s, reset
 * time, and the wasm heap and process memory over 1,000 resets.
 */
import { PushTEnv } from "../src/envs/pusht/pusht.ts";
import { ArmPushEnv } from "../src/envs/arm-push/arm-push.ts";
import { loadMujoco, heapBytes } from "../src/envs/arm-push/mujoco.ts";
import { VectorEnv } from "../src/envs/vector.ts";
import { Rng } from "../src/util/rng.ts";
import type { BenchResult } from "./util.ts";

function pushtSingle(seconds: number): number {
  const env = new PushTEnv({ obsMode: "keypoints" });
  const rng = new Rng(0);
  env.reset({ seed: 0 });
  let steps = 0, t = 0;
  const t0 = performance.now();
  // random-walk targets near the agent so the agent keeps touching the block sometimes
  while (performance.now() - t0 < seconds * 1000) {
    const r = env.step([100 + rng.next() * 312, 100 + rng.next() * 312]);
    steps++;
    if (++t >= 300 || r.terminated) (env.reset({ seed: steps }), (t = 0));
  }
  return steps / ((performance.now() - t0) / 1000);
}

function pushtVector(n: number, seconds: number): number {
  const v = new VectorEnv(Array.from({ length: n }, () => new PushTEnv({ obsMode: "keypoints" })));
  const rng = new Rng(1);
  v.reset([...Array(n).keys()]);
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const res = v.step(Array.from({ length: n }, () => [100 + rng.next() * 312, 100 + rng.next() * 312]));
    steps += res.filter((r) => r.active).length;
    if (v.allDone) v.reset([...Array(n).keys()].map((i) => i + steps));
  }
  return steps / ((performance.now() - t0) / 1000);
}

/** arm-push-v1: control steps/s with random tip targets (episodes of 200 steps), then 1,000 resets' time and memory. */
async function armPush(seconds: number) {
  await loadMujoco();
  const env = new ArmPushEnv();
  const rng = new Rng(2);
  env.reset({ seed: 0 });
  let steps = 0, t = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    env.step([0.3 + rng.next() * 0.4, -0.3 + rng.next() * 0.6]);
    steps++;
    if (++t >= 200) (env.reset({ seed: steps }), (t = 0));
  }
  const stepsPerSec = steps / ((performance.now() - t0) / 1000);
  const heap0 = heapBytes(env.simulation().data);
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const r0 = performance.now();
  for (let i = 0; i < 1000; i++) env.reset({ seed: i });
  const resetMs = (performance.now() - r0) / 1000;
  global.gc?.();
  const heapGrowth = heapBytes(env.simulation().data) - heap0, rssGrowth = process.memoryUsage().rss - rss0;
  env.close();
  return { stepsPerSec, resetMs, heapBytes: heap0, heapGrowth, rssGrowth };
}

export async function benchEnvs(): Promise<BenchResult> {
  const single = pushtSingle(3);
  const vec = pushtVector(16, 3);
  const arm = await armPush(5);
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  return {
    name: "envs",
    title: "control steps/s, one core: Push-T (10 physics substeps, keypoint observations) and arm-push-v1 (MuJoCo wasm, 50 substeps + IK), random targets",
    rows: [
      ["Push-T, single env", `${Math.round(single)} steps/s`],
      ["Push-T, vector of 16", `${Math.round(vec)} steps/s`],
      ["arm-push-v1, single env", `${Math.round(arm.stepsPerSec)} steps/s`],
      ["arm-push-v1, reset", `${arm.resetMs.toFixed(3)} ms`],
      ["arm-push-v1, 1,000 resets: wasm heap / RSS growth", `${mb(arm.heapGrowth)} of ${mb(arm.heapBytes)} / ${mb(arm.rssGrowth)}`],
    ],
    summary: `Push-T single ${Math.round(single)} steps/s (goal ≥ 5000): ${(single / 5000).toFixed(1)}x the goal; arm-push-v1 ${Math.round(arm.stepsPerSec)} steps/s (${Math.round(arm.stepsPerSec * 50)} MuJoCo steps/s), heap flat over 1,000 resets: ${arm.heapGrowth === 0}`,
    json: { pushtStepsPerSec: single, pushtVector16StepsPerSec: vec, armPushStepsPerSec: arm.stepsPerSec, armPushResetMs: arm.resetMs, armPushHeapBytes: arm.heapBytes, armPushHeapGrowthBytes: arm.heapGrowth, armPushRssGrowthBytes: arm.rssGrowth },
  };
}
