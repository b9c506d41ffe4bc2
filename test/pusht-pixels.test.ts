/**
 * Push-T's image observation against Diffusion Policy's recordings (../shared/datasets/pusht_cchi_v7_replay.zarr):
 * frames from several episodes rendered at their recorded states must match the stored `data/img` within a
 * tolerance that a wrong colour or a one-pixel offset breaks (checked here too); and the env's opt-in
 * `obsType: "pixels_agent_pos"` observation has the right shape, values and space.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";
import { rowMajor } from "../src/datasets/dp-zarr/strided.ts";
import { renderPushTObservation } from "../src/envs/pusht/pixels.ts";
import { PushTEnv } from "../src/envs/pusht/pusht.ts";
import { ScdError } from "../src/errors.ts";
import { PUSHT_ZARR } from "./helpers.ts";

const PIX = 96 * 96 * 3;
/**
 * Frames of 12 episodes: starts, middles, ends (frame 0 = episode 0's start), and the hard cases: the agent deep in
 * the block, drawn with its red contact line (6235, 21688), block–agent contact at an edge (23967), the block
 * pushed past the canvas edge so that its outlines are clipped (7945, 10729).
 */
const FRAMES = [0, 57, 1000, 5000, 6235, 7945, 9876, 10729, 12000, 17321, 20000, 21688, 23967, 25649];

/** The tolerance: mean |difference| ≤ 0.02/255 and at most 14 of the 27,648 values (0.05 %) differing at all. */
function withinTolerance(ours: Uint8Array, stored: ArrayLike<number>): { ok: boolean; mae: number; differing: number } {
  let sum = 0, differing = 0;
  for (let i = 0; i < PIX; i++) {
    const d = Math.abs(ours[i] - stored[i]);
    sum += d;
    if (d) differing++;
  }
  const mae = sum / PIX;
  return { ok: mae <= 0.02 && differing <= 14, mae, differing };
}

type Recorded = { state: Float32Array; image: Float32Array; frame: number };
let cache: Promise<Recorded[]> | undefined;
/** The FRAMES' recorded states and images (read once; one Zarr chunk per frame). */
const recorded = (): Promise<Recorded[]> => (cache ??= readFrames());

async function readFrames(): Promise<Recorded[]> {
  const root = zarr.root(new FileSystemStore(PUSHT_ZARR));
  const img = await zarr.open.v2(root.resolve("data/img"), { kind: "array" });
  const st = await zarr.open.v2(root.resolve("data/state"), { kind: "array" });
  const out = [];
  for (const frame of FRAMES) {
    const image = rowMajor(await zarr.get(img, [zarr.slice(frame, frame + 1), null, null, null]), "data/img") as Float32Array;
    const state = rowMajor(await zarr.get(st, [zarr.slice(frame, frame + 1), null]), "data/state") as Float32Array;
    out.push({ state, image, frame });
  }
  return out;
}

test("recorded frames of several episodes: the render at the recorded state matches data/img", async () => {
  if (!fs.existsSync(PUSHT_ZARR)) return console.log(`  skipped: ${path.basename(PUSHT_ZARR)} is absent (../shared)`);
  for (const { state, image, frame } of await recorded()) {
    const ours = renderPushTObservation(state);
    assert.is(ours.length, PIX);
    const r = withinTolerance(ours, image);
    assert.ok(r.ok, `frame ${frame}: MAE ${r.mae.toFixed(4)}/255, ${r.differing} values differ`);
  }
});

test("contacts: the red segment of a block–agent contact is where the recording has it", async () => {
  if (!fs.existsSync(PUSHT_ZARR)) return console.log(`  skipped: ${path.basename(PUSHT_ZARR)} is absent (../shared)`);
  const reddish = (im: ArrayLike<number>) => Array.from({ length: PIX / 3 }, (_, p) => p).filter((p) => im[p * 3] > im[p * 3 + 1] + 40);
  for (const { state, image, frame } of (await recorded()).filter((r) => [6235, 21688].includes(r.frame))) {
    const stored = reddish(image);
    assert.ok(stored.length >= 2, `frame ${frame}: the recording shows a contact`);
    assert.equal(reddish(renderPushTObservation(state)), stored, `frame ${frame}: contact pixels`);
  }
});

test("the tolerance fails a wrong colour, a 1-px shift of the image and a 1-px (world) offset of the state", async () => {
  if (!fs.existsSync(PUSHT_ZARR)) return console.log(`  skipped: ${path.basename(PUSHT_ZARR)} is absent (../shared)`);
  for (const { state, image, frame } of (await recorded()).slice(0, 4)) {
    const ours = renderPushTObservation(state);
    // the block's fill (143, 163, 184) drawn one step darker in red, as an unrounded 1.2 · 119 = 142.8 would give
    const wrongColour = ours.slice();
    for (let i = 0; i < PIX; i += 3) if (ours[i] === 143 && ours[i + 1] === 163 && ours[i + 2] === 184) wrongColour[i] = 142;
    assert.not.ok(withinTolerance(wrongColour, image).ok, `frame ${frame}: wrong block colour passes`);
    // the agent's light inside as the rim's RoyalBlue
    const flatAgent = ours.slice();
    for (let i = 0; i < PIX; i += 3) if (ours[i] === 78 && ours[i + 1] === 126 && ours[i + 2] === 255) flatAgent.set([65, 105, 225], i);
    assert.not.ok(withinTolerance(flatAgent, image).ok, `frame ${frame}: wrong agent colour passes`);
    // the whole 96-px image one pixel to the right
    const shifted = new Uint8Array(PIX).fill(255);
    for (let y = 0; y < 96; y++) shifted.set(ours.subarray(y * 288, y * 288 + 285), y * 288 + 3);
    assert.not.ok(withinTolerance(shifted, image).ok, `frame ${frame}: 1-px image shift passes`);
    // the block one world pixel off in x, and in y
    for (const k of [2, 3]) {
      const off = Array.from(state);
      off[k] += 1;
      assert.not.ok(withinTolerance(renderPushTObservation(off), image).ok, `frame ${frame}: block off by 1 px (state[${k}]) passes`);
    }
  }
});

test("renderPushTObservation: HWC bytes of the requested size; refuses a bad state or size", () => {
  const s = [222, 97, 222.99, 381.6, 3.008];
  const img = renderPushTObservation(s);
  assert.instance(img, Uint8Array);
  assert.is(img.length, PIX);
  assert.equal(Array.from(img.subarray(0, 3)), [255, 255, 255]); // the corner outside the walls is floor
  assert.is(renderPushTObservation(s, 48).length, 48 * 48 * 3);
  assert.throws(() => renderPushTObservation([1, 2, 3]), (e: unknown) => e instanceof ScdError && /5 finite numbers/.test((e as Error).message));
  assert.throws(() => renderPushTObservation([1, 2, 3, 4, NaN]), (e: unknown) => e instanceof ScdError);
  assert.throws(() => renderPushTObservation(s, 0), (e: unknown) => e instanceof ScdError && /size/.test((e as Error).message));
});

test('env obsType "pixels_agent_pos": observation.image [96, 96, 3] of byte values, its space, on reset and step', () => {
  const env = new PushTEnv({ obsType: "pixels_agent_pos" });
  const space = env.observationSpace["observation.image"];
  assert.equal(space.shape, [96, 96, 3]);
  assert.is(space.low.length, PIX);
  assert.ok(space.low.every((v) => v === 0) && space.high.every((v) => v === 255));
  assert.equal(Object.keys(env.observationSpace).sort(), ["observation.agent_pos", "observation.image", "observation.keypoints"]);
  const { obs } = env.reset({ seed: 0 });
  const check = (o: typeof obs) => {
    const im = o["observation.image"];
    assert.instance(im, Float32Array);
    assert.is(im.length, PIX);
    assert.ok(im.every((v) => Number.isInteger(v) && v >= 0 && v <= 255), "byte values");
    // the image shows the env's current state
    const ours = renderPushTObservation(env.getState());
    assert.ok(withinTolerance(ours, im).ok, "image = render of getState()");
    assert.ok(im.some((v, i) => i % 3 === 2 && v === 255 && im[i - 2] === 78), "the agent (78, 126, 255) is visible");
  };
  check(obs);
  assert.equal(Array.from(obs["observation.agent_pos"]), env.getState().slice(0, 2).map(Math.fround));
  check(env.step([300, 300]).obs);
  // with obsMode "state" the image comes beside the state
  const st = new PushTEnv({ obsMode: "state", obsType: "pixels_agent_pos" });
  assert.equal(Object.keys(st.reset({ seed: 1 }).obs).sort(), ["observation.image", "observation.state"]);
});

test("default env: no image, spaces unchanged; an unknown obsType is refused", () => {
  const env = new PushTEnv();
  assert.equal(Object.keys(env.observationSpace).sort(), ["observation.agent_pos", "observation.keypoints"]);
  assert.equal(Object.keys(env.reset({ seed: 0 }).obs).sort(), ["observation.agent_pos", "observation.keypoints"]);
  assert.throws(() => new PushTEnv({ obsType: "pixels" as never }), (e: unknown) => e instanceof ScdError && /obsType/.test((e as Error).message));
});

test.run();
