/** Push-T control steps per second (10 physics substeps each), single env and a vector of 16, on one core. */
import { PushTEnv } from "../src/envs/pusht/pusht.ts";
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

export async function benchEnvs(): Promise<BenchResult> {
  const single = pushtSingle(3);
  const vec = pushtVector(16, 3);
  return {
    name: "envs",
    title: "Push-T control steps/s (10 physics substeps each, keypoint observations, random targets), one core",
    rows: [
      ["single env", `${Math.round(single)} steps/s`],
      ["vector of 16", `${Math.round(vec)} steps/s`],
    ],
    summary: `single ${Math.round(single)} steps/s (goal ≥ 5000): ${(single / 5000).toFixed(1)}x the goal`,
    json: { pushtStepsPerSec: single, pushtVector16StepsPerSec: vec },
  };
}
