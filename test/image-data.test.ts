/**
 * Image features in the data path, on the real Push-T store (../shared; skipped with a message where it is absent):
 * Zarr frames read chunk by chunk, the native format's image section (version 2) read frame by frame with CRCs,
 * the window sampler fetching only its frames, per-channel image normalization, and `scd dataset inspect`.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";
import "../src/datasets/index.ts";
import { ScdError } from "../src/errors.ts";
import { readDpZarr } from "../src/datasets/dp-zarr/zarr.ts";
import { ZarrFrames } from "../src/datasets/dp-zarr/frames.ts";
import { DatasetReader, ScddFrames, writeDataset, writeDatasetAsync, readDataset, IMAGE_VERSION, VERSION } from "../src/datasets/native.ts";
import { type EpisodeBuffer, firstEpisodes, getEpisode, concatEpisodes } from "../src/datasets/episodes.ts";
import { sampleWindows, sampleWindowsAsync, windowFrameSteps } from "../src/datasets/windows.ts";
import { readFrames, evenSteps } from "../src/datasets/frames.ts";
import { frameLocation, type DatasetFooter } from "../src/datasets/native-bytes.ts";
import { imageNormalizer, normalize, unnormalize, normDim, NormStatsSchema, affine } from "../src/datasets/normalizer.ts";
import { summarize, imageStats } from "../src/datasets/inspect.ts";
import { loadDataset } from "../src/datasets/load.ts";
import { scd, PUSHT_ZARR } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-images-"));
const have = fs.existsSync(PUSHT_ZARR);
const IMG = "observation.image", FB = 96 * 96 * 3;
const skip = () => (have ? false : (console.log("  skipped: ../shared/datasets/pusht_cchi_v7_replay.zarr is absent"), true));

/** Frames [from, to) of data/img straight from zarrita (float 0..255 → bytes), as the reference. */
async function zarrImages(from: number, to: number): Promise<Uint8Array> {
  const arr = await zarr.open.v2(zarr.root(new FileSystemStore(path.resolve(PUSHT_ZARR))).resolve("data/img"), { kind: "array" });
  return Uint8Array.from((await zarr.get(arr, [zarr.slice(from, to), null, null, null])).data as Float32Array);
}

let lazy: EpisodeBuffer; // the first 5 episodes of the store, images lazy
const scdd = path.join(dir, "pusht5.scdd");

test("Zarr images stay in the store: frames come chunk by chunk, equal to zarrita's, never all at once", async () => {
  if (skip()) return;
  const full = await readDpZarr(PUSHT_ZARR, { images: true });
  const src = full.frames![IMG] as ZarrFrames;
  assert.ok(src instanceof ZarrFrames);
  assert.equal(full.schema[IMG], { shape: [96, 96, 3], dtype: "uint8" });
  assert.is(full.data[IMG], undefined, "no image array in memory");
  assert.is(src.length, 25650);
  assert.is(src.chunkLen, 161);
  const got = await readFrames(src, [159, 160, 161, 162, 25649]); // across a chunk boundary, and the last frame
  const ref = await zarrImages(159, 163);
  assert.equal(Array.from(got.subarray(0, 4 * FB)), Array.from(ref));
  assert.equal(Array.from(got.subarray(4 * FB)), Array.from(await zarrImages(25649, 25650)));
  assert.ok(src.cache.size <= 3 * 161, `${src.cache.size} frames cached: the chunks read, not the store`);
  lazy = firstEpisodes(full, 5);
});

test("import to the native format: images in their own section (version 2), streamed one episode at a time", async () => {
  if (skip()) return;
  const src = (lazy.frames![IMG] as unknown as { src: ZarrFrames }).src;
  await writeDatasetAsync(scdd, lazy, { source: "test" });
  assert.ok(src.cache.bytes <= src.cache.capacityBytes, `cache ${src.cache.bytes} B within its ${src.cache.capacityBytes} B bound`);
  const r = DatasetReader.open(scdd);
  try {
    assert.is(r.header.version, IMAGE_VERSION);
    assert.equal(r.imageFeatures, [IMG]);
    const n = r.numSteps;
    assert.is(n, lazy.episodeEnds.at(-1));
    const buf = r.readLazy();
    assert.ok(buf.frames![IMG] instanceof ScddFrames);
    assert.is(buf.data[IMG], undefined);
    assert.equal(Array.from(buf.data.action), Array.from(lazy.data.action), "float features exactly as the store's");
    // every frame, read frame by frame from the file, equals the store's
    assert.equal(Array.from(await readFrames(buf.frames![IMG], Array.from({ length: n }, (_, i) => i))), Array.from(await zarrImages(0, n)));
    // and whole episodes (readEpisode / readAll) still come back as plain arrays
    assert.equal(Array.from(r.readEpisode(1)[IMG] as Uint8Array), Array.from(await zarrImages(lazy.episodeEnds[0], lazy.episodeEnds[1])));
  } finally {
    r.close();
  }
  // a dataset without images is still written as version 1, byte for byte as before
  const f = path.join(dir, "floats.scdd");
  writeDataset(f, { schema: { a: { shape: [2] } }, data: { a: Float32Array.from([1, 2, 3, 4]) }, episodeEnds: Int32Array.from([2]) });
  assert.is(DatasetReader.open(f).header.version, VERSION);
});

test("the window sampler fetches only the frames its windows hold, and equals sampling in memory", async () => {
  if (skip()) return;
  const loaded = await loadDataset(scdd);
  const buf = loaded.buffer, src = buf.frames![IMG] as ScddFrames;
  const mem = readDataset(scdd).buffer;
  assert.ok(mem.data[IMG] instanceof Uint8Array);
  const spec = { [IMG]: [-1, 0], action: [-1, 0, 1, 2, 3, 4, 5, 6, 7] };
  const anchors = Int32Array.from([0, 5, 160, 161, 300, buf.episodeEnds.at(-1)! - 1]);
  const need = windowFrameSteps(buf, spec, anchors)[IMG];
  assert.equal(need, [0, 4, 5, 159, 160, 161, 299, 300, buf.episodeEnds.at(-1)! - 2, buf.episodeEnds.at(-1)! - 1], "edges clamped to the episode");
  const w = sampleWindows(buf, spec, anchors);
  assert.is(src.cache.misses, need.length, "one read per frame needed");
  assert.is(src.cache.size, need.length);
  const m = sampleWindows(mem, spec, anchors);
  assert.equal(Array.from(w.values[IMG]), Array.from(m.values[IMG]));
  assert.equal(Array.from(w.pad[IMG]), Array.from(m.pad[IMG]));
  assert.equal(Array.from(w.values.action), Array.from(m.values.action));
  assert.is(w.values[IMG].length, anchors.length * 2 * FB);
  // the Zarr source is asynchronous: sampleWindowsAsync loads, samples, releases
  const z = await sampleWindowsAsync(lazy, spec, anchors);
  assert.equal(Array.from(z.values[IMG]), Array.from(m.values[IMG]));
  const cold = firstEpisodes(await readDpZarr(PUSHT_ZARR, { images: true }), 2);
  assert.throws(() => sampleWindows(cold, spec, [3]), /frame 2 is not loaded \(await load/);
});

test("a damaged frame is named (file, feature, episode, frame); the other frames and features still read", async () => {
  if (skip()) return;
  const bad = path.join(dir, "bad.scdd");
  fs.copyFileSync(scdd, bad);
  const r = DatasetReader.open(bad);
  const { pos } = frameLocation((r as unknown as { footer: DatasetFooter }).footer, IMG, FB, 200);
  r.close();
  const bytes = fs.readFileSync(bad);
  bytes[pos + 1234] ^= 0xff;
  fs.writeFileSync(bad, bytes);
  const buf = (await loadDataset(bad)).buffer;
  const at = 200 - buf.episodeEnds[0];
  assert.throws(() => buf.frames![IMG].frame(200), (e: unknown) => e instanceof ScdError && e.message === `${bad}: feature "${IMG}" episode 1 frame ${at} is corrupt (checksum mismatch)`);
  assert.is(buf.frames![IMG].frame(199).length, FB);
  assert.throws(() => getEpisode(buf, 1), /episode 1 frame 39 is corrupt/);
  assert.ok(getEpisode({ ...buf, schema: { action: buf.schema.action }, frames: undefined }, 1).action.length > 0);
});

test("images normalize per channel: x/255 → [-1, 1], or lerobot-style mean/std per channel; never min–max over pixels", async () => {
  const unit = imageNormalizer([2, 2, 3], "unit");
  assert.equal(NormStatsSchema.parse(unit), unit, "stored in checkpoints as plain data");
  assert.is(normDim(unit), 12);
  const x = Float32Array.from([0, 255, 127.5, 255, 0, 51, 0, 0, 0, 255, 255, 255]);
  const y = normalize(unit, x);
  assert.equal(Array.from(y.subarray(0, 3)).map((v) => +v.toFixed(5)), [-1, 1, 0]);
  for (const v of unnormalize(unit, y).map((v, i) => v - x[i])) assert.ok(Math.abs(v) < 1e-4);
  assert.throws(() => imageNormalizer([4, 3], "unit"), /needs a shape \[H, W, C\]/);
  assert.throws(() => imageNormalizer([2, 2, 3], "meanstd"), /needs 3 channel means and stds/);
  if (skip()) return;
  const stats = (await imageStats(lazy.frames![IMG], evenSteps(lazy.episodeEnds.at(-1)!, 200))).result();
  const ms = imageNormalizer([96, 96, 3], "meanstd", stats);
  assert.ok(ms.mode === "image" && ms.mean!.every((m) => m > 0.5 && m < 1), `Push-T's light grey background: channel means ${ms.mode === "image" && ms.mean}`);
  const { scale, shift } = affine(ms);
  assert.is(scale.length, FB);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(stats.mean[c] * scale[c] + shift[c]) < 1e-5, "a channel's mean maps to 0");
  assert.is(scale[3], scale[0], "one scale per channel");
});

test("inspect: image features by shape, dtype and per-channel mean/std of a frame sample (library and CLI)", async () => {
  if (skip()) return;
  const s = await summarize((await loadDataset(scdd)).buffer, 100);
  const im = s.features[IMG];
  assert.equal([im.shape, im.dtype, im.sampledFrames, im.mean.length], [[96, 96, 3], "uint8", 100, 3]);
  const mem = readDataset(scdd).buffer;
  const at = evenSteps(mem.episodeEnds.at(-1)!, 100), ref = concatEpisodes({ x: mem.schema[IMG] }, at.map((t) => ({ x: (mem.data[IMG] as Uint8Array).slice(t * FB, (t + 1) * FB) })));
  const exact = (await imageStats((await loadDataset(scdd)).buffer.frames![IMG], at)).result();
  assert.equal(im.mean, exact.mean);
  let sum = 0;
  for (let i = 0; i < ref.data.x.length; i += 3) sum += ref.data.x[i];
  assert.ok(Math.abs(im.mean[0] - sum / (ref.data.x.length / 3)) < 1e-9, "red mean of the same 100 frames, counted by hand");
  assert.equal(s.features.action.mean.length, 2, "float features as before");
  const r = scd(["dataset", "inspect", scdd, "--json"]);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout).features[IMG];
  assert.equal([j.shape, j.dtype, j.sampledFrames, j.std.length], [[96, 96, 3], "uint8", Math.min(1000, s.steps), 3]);
  const t = scd(["dataset", "inspect", scdd]);
  assert.match(t.stdout, /observation\.image {2}shape \[96,96,3\] uint8 {2}\(image: stats per channel from \d+ frames\)/);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
