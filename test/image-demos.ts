/** Push-T demonstrations with camera frames for the image tests (scd-image, entangled-image). */
import * as tf from "@tensorflow/tfjs";
import * as assert from "uvu/assert";
import { readDataset, writeDataset } from "../src/datasets/native.ts";
import { firstEpisodes, getEpisode, concatEpisodes, type EpisodeBuffer, type Episode } from "../src/datasets/episodes.ts";
import { renderPushTObservation } from "../src/envs/pusht/pixels.ts";
import { PUSHT_NATIVE } from "./helpers.ts";

const IMG = "observation.image";

/** The first `episodes` demonstrations with their frames rendered from observation.state (uint8 [96, 96, 3]). */
export function withImages(buf: EpisodeBuffer, episodes: number): EpisodeBuffer {
  const eps: Episode[] = Array.from({ length: episodes }, (_, k) => {
    const ep = getEpisode(buf, k), st = ep["observation.state"] as Float32Array, n = st.length / 5;
    const img = new Uint8Array(n * 96 * 96 * 3);
    for (let t = 0; t < n; t++) img.set(renderPushTObservation(st.subarray(5 * t, 5 * t + 5)), t * 96 * 96 * 3);
    return { "observation.state": st, action: ep.action, [IMG]: img };
  });
  return concatEpisodes({ "observation.state": buf.schema["observation.state"], action: buf.schema.action, [IMG]: { shape: [96, 96, 3], dtype: "uint8" } }, eps);
}

/** Write a .scdd of the first `n` shipped Push-T demonstrations with their camera frames (env pusht-image-v1). */
export function writePushTImageDemos(file: string, n: number): void {
  writeDataset(file, withImages(firstEpisodes(readDataset(PUSHT_NATIVE).buffer, n), n), { env: "pusht-image-v1" });
}

/** Train `steps` steps after a warm-up step: no tensor may leak per step, and the mean loss of the last 8 must fall below 0.8× the first 8's. */
export async function assertLossFalls(s: { trainStepAsync(): Promise<number> }, steps = 40): Promise<void> {
  const losses: number[] = [];
  await s.trainStepAsync();
  const base = tf.memory().numTensors;
  for (let i = 0; i < steps; i++) losses.push(await s.trainStepAsync());
  assert.is(tf.memory().numTensors, base, "tensors per step");
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const [first, last] = [mean(losses.slice(0, 8)), mean(losses.slice(-8))];
  console.log(`  loss ${first.toFixed(3)} (steps 1–8) → ${last.toFixed(3)} (${steps - 7}–${steps})`);
  assert.ok(last < 0.8 * first, `loss ${first} → ${last}`);
}
