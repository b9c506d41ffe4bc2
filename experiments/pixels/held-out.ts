/**
 * The recorded Push-T frames the pixel experiments measure on, chosen in one place so that the encoder probe
 * (probe.ts) and render-and-compare (pixel-pose.ts) score the same frames: Diffusion Policy's Zarr store with its
 * 96 × 96 images, every `stride`-th step, demonstrations 0–179 to fit on and 180–205 held out.
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readDpZarr } from "../../src/datasets/dp-zarr/zarr.ts";
import { coverage } from "../../src/envs/pusht/geometry.ts";
import type { FrameSource } from "../../src/datasets/frames.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Demonstrations fitted on; the rest are held out. */
export const TRAIN_EPISODES = 180;

export interface PushTFrames {
  /** The image feature, its `steps` loaded. */
  frames: FrameSource;
  /** observation.state [steps · 5]: agent x, y, block x, y (px of 512), block angle (rad). */
  state: Float32Array;
  /** Every `stride`-th step, loaded. */
  steps: number[];
  /** Steps of demonstrations 0–179 and of 180–205. */
  trainSteps: number[];
  testSteps: number[];
}

/** Load every `stride`-th recorded frame and its state. */
export async function loadPushTFrames(stride: number): Promise<PushTFrames> {
  const buf = await readDpZarr(path.join(ROOT, "../shared/datasets/pusht_cchi_v7_replay.zarr"), { images: true });
  const frames = buf.frames!["observation.image"], state = buf.data["observation.state"] as Float32Array;
  const split = buf.episodeEnds[TRAIN_EPISODES - 1];
  const steps = Array.from({ length: Math.floor(buf.episodeEnds.at(-1)! / stride) }, (_, i) => i * stride);
  await frames.load(steps);
  return { frames, state, steps, trainSteps: steps.filter((s) => s < split), testSteps: steps.filter((s) => s >= split) };
}

/** Is the recorded block near the goal at step s (coverage > 0.5: where an episode is won or lost by the last few pixels)? */
export const nearGoal = (state: Float32Array, s: number): boolean => coverage(state[s * 5 + 2], state[s * 5 + 3], state[s * 5 + 4]) > 0.5;

/** The p-quantile of v by the lower rank, v sorted ascending at index ⌊p·(n − 1)⌋. */
export const lowerQuantile = (v: number[], p: number): number => v.slice().sort((a, b) => a - b)[Math.floor(p * (v.length - 1))];
