import { test } from "uvu";
import * as assert from "uvu/assert";
import { sampleWindows, gatherWindow, anchorsForEpisodes, episodeIndexOfSteps, splitEpisodes } from "../src/datasets/windows.ts";
import { concatEpisodes, validateBuffer, getEpisode, type EpisodeBuffer } from "../src/datasets/episodes.ts";

// two episodes: lengths 3 and 4; value = 10*episode + step, action 2-d = (v, -v)
function buf(): EpisodeBuffer {
  const ep = (k: number, n: number) => ({
    obs: Float32Array.from({ length: n }, (_, t) => 10 * k + t),
    act: Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 ? -1 : 1) * (10 * k + (i >> 1))),
  });
  return concatEpisodes({ obs: { shape: [1] }, act: { shape: [2] } }, [ep(0, 3), ep(1, 4)]);
}

test("concatEpisodes builds flat arrays and exclusive episodeEnds", () => {
  const b = buf();
  assert.equal(Array.from(b.episodeEnds), [3, 7]);
  assert.equal(Array.from(b.data.obs), [0, 1, 2, 10, 11, 12, 13]);
  validateBuffer(b);
  assert.equal(Array.from(getEpisode(b, 1).obs), [10, 11, 12, 13]);
});

test("window in the middle of an episode has no padding", () => {
  const w = sampleWindows(buf(), { obs: [-1, 0], act: [0, 1] }, [4]);
  assert.equal(Array.from(w.values.obs), [10, 11]);
  assert.equal(Array.from(w.pad.obs), [0, 0]);
  assert.equal(Array.from(w.values.act), [11, -11, 12, -12]);
});

test("episode start replicates the first frame and masks it", () => {
  const w = sampleWindows(buf(), { obs: [-2, -1, 0] }, [3]); // first step of episode 1
  assert.equal(Array.from(w.values.obs), [10, 10, 10]);
  assert.equal(Array.from(w.pad.obs), [1, 1, 0]);
});

test("episode end replicates the last frame; never crosses into the next episode", () => {
  const w = sampleWindows(buf(), { obs: [0, 1, 2] }, [1]);
  assert.equal(Array.from(w.values.obs), [1, 2, 2]);
  assert.equal(Array.from(w.pad.obs), [0, 0, 1]);
});

test("horizon longer than the episode pads on both sides", () => {
  const w = sampleWindows(buf(), { obs: [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5] }, [1]);
  assert.equal(Array.from(w.values.obs), [0, 0, 0, 0, 0, 1, 2, 2, 2, 2, 2]);
  assert.equal(Array.from(w.pad.obs), [1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1]);
});

test("gatherWindow is pure and writes at the given offsets", () => {
  const flat = Float32Array.from([5, 6, 7]);
  const out = new Float32Array(6).fill(-1), pad = new Uint8Array(4).fill(9);
  gatherWindow(flat, 1, 0, 3, 2, [0, 1], out, 2, pad, 1);
  assert.equal(Array.from(out), [-1, -1, 7, 7, -1, -1]);
  assert.equal(Array.from(pad), [9, 0, 1, 9]);
  assert.equal(Array.from(flat), [5, 6, 7]);
});

test("anchors, episode index, and an unknown feature", () => {
  const b = buf();
  assert.equal(Array.from(anchorsForEpisodes(b.episodeEnds, [1])), [3, 4, 5, 6]);
  assert.equal(Array.from(anchorsForEpisodes(b.episodeEnds, [0, 1], 2)), [0, 3, 4], "the last 2 steps of each episode are dropped");
  assert.equal(Array.from(anchorsForEpisodes(b.episodeEnds, [0], 9)), [0], "an episode keeps at least one anchor");
  assert.equal(Array.from(episodeIndexOfSteps(b.episodeEnds)), [0, 0, 0, 1, 1, 1, 1]);
  assert.throws(() => sampleWindows(b, { nope: [0] }, [0]), /feature "nope"/);
  assert.throws(() => sampleWindows(b, { obs: [0] }, [99]), /outside the dataset/);
});

test("splitEpisodes is deterministic, disjoint and complete", () => {
  const a = splitEpisodes(206, 0.05, 1), b = splitEpisodes(206, 0.05, 1), c = splitEpisodes(206, 0.05, 2);
  assert.equal(a, b);
  assert.not.equal(a.val, c.val);
  assert.is(a.val.length, 10);
  assert.equal([...a.train, ...a.val].sort((x, y) => x - y), [...Array(206).keys()]);
});

test("validateBuffer names the bad feature", () => {
  const b = buf();
  b.data.obs = b.data.obs.slice(0, 5);
  assert.throws(() => validateBuffer(b), /feature "obs" has 5 values, expected 7/);
  const c = buf();
  c.episodeEnds = Int32Array.from([3, 3]);
  assert.throws(() => validateBuffer(c), /episodeEnds\[1\]/);
});

test.run();
