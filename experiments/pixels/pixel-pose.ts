/**
 * How precisely do the 96 × 96 camera frames themselves pin down the T? Analysis by synthesis on the recorded
 * frames near the goal (coverage > 0.5) of the demonstrations the pixel probe holds out (episodes 180–205, every
 * `--stride`-th frame, as experiments/pixels/probe.ts: held-out.ts): starting from the recorded block pose moved by a random
 * ±`--offset` px and degrees, a pattern search over (x, y, angle) minimises the absolute difference between the
 * recorded frame and our replica renderer's frame at the candidate pose (src/envs/pusht/pixels.ts, bit-exact on
 * 25,649 of the 25,650 recorded frames: results/match.md), with the agent where it was recorded. The recovered pose's
 * error is what a perfect image encoder could read; the probe's is what ours reads. Writes results/pixel-pose.json.
 *
 *   nice -n 15 npx tsx experiments/pixels/pixel-pose.ts [--stride 8] [--offset 4]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { renderPushTObservation } from "../../src/envs/pusht/pixels.ts";
import { Rng } from "../../src/util/rng.ts";
import { loadPushTFrames, nearGoal, lowerQuantile as q } from "./held-out.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { values: opts } = parseArgs({ options: { stride: { type: "string", default: "8" }, offset: { type: "string", default: "4" } } });
const stride = Number(opts.stride), offset = Number(opts.offset);

const { frames, state, testSteps } = await loadPushTFrames(stride);
const steps = testSteps.filter((s) => nearGoal(state, s));

/** Sum of |rendered − recorded| over the frame's 96·96·3 values (0..255 each). */
function misfit(s: number, pose: number[]): number {
  const img = renderPushTObservation([state[s * 5], state[s * 5 + 1], pose[0], pose[1], (pose[2] * Math.PI) / 180]), rec = frames.frame(s);
  let e = 0;
  for (let i = 0; i < img.length; i++) e += Math.abs(img[i] - rec[i]);
  return e;
}

/** Compass search: try ±step along x, y (px) and angle (deg), keep any improvement; halve the step when none helps, from 4 down to 1/16. */
function search(s: number, start: number[]): { pose: number[]; renders: number } {
  let pose = start.slice(), best = misfit(s, pose), renders = 1;
  for (let step = 4; step >= 1 / 16; ) {
    let moved = false;
    for (let k = 0; k < 3; k++)
      for (const sign of [1, -1]) {
        const cand = pose.slice();
        cand[k] += sign * step;
        const e = misfit(s, cand);
        renders++;
        if (e < best) (best = e), (pose = cand), (moved = true);
      }
    if (!moved) step /= 2;
  }
  return { pose, renders };
}

const rng = new Rng(0), pos: number[] = [], ang: number[] = [];
const t0 = Date.now();
let renders = 0;
for (const s of steps) {
  const truth = [state[s * 5 + 2], state[s * 5 + 3], (state[s * 5 + 4] * 180) / Math.PI];
  const start = truth.map((v) => v + (rng.next() * 2 - 1) * offset);
  const r = search(s, start);
  renders += r.renders;
  pos.push(Math.hypot(r.pose[0] - truth[0], r.pose[1] - truth[1]));
  const d = ((r.pose[2] - truth[2] + 540) % 360) - 180;
  ang.push(Math.abs(d));
}
const result = {
  frames: steps.length, stride, offset, renders,
  position: { median: q(pos, 0.5), p90: q(pos, 0.9), max: Math.max(...pos) },
  angleDeg: { median: q(ang, 0.5), p90: q(ang, 0.9), max: Math.max(...ang) },
};
fs.writeFileSync(path.join(ROOT, "experiments/pixels/results/pixel-pose.json"), JSON.stringify(result, null, 2) + "\n");
console.log(`${steps.length} frames near the goal, ${renders} renders in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
console.log(`block pose recovered from the pixels: position ${result.position.median.toFixed(2)} / ${result.position.p90.toFixed(2)} px, angle ${result.angleDeg.median.toFixed(2)} / ${result.angleDeg.p90.toFixed(2)} deg (median / p90)`);
