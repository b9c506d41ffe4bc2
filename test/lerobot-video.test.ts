/**
 * LeRobot v3.0 video features, written and read by the package on real Push-T frames (../shared; skipped with a
 * message where the store is absent): H.264 MP4 encode and decode through @napi-rs/webcodecs (a dev dependency),
 * the directory layout and meta fields lerobot documents, seeking by timestamp, the frame cache, the round-trip
 * error, and one ScdError for each kind of bad input.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parquetReadObjects } from "hyparquet";
import "../src/datasets/index.ts";
import { ScdError } from "../src/errors.ts";
import { readDpZarr } from "../src/datasets/dp-zarr/zarr.ts";
import { type EpisodeBuffer, concatEpisodes, loadEpisode } from "../src/datasets/episodes.ts";
import { writeLeRobot } from "../src/datasets/lerobot/write.ts";
import { loadCodecs } from "../src/datasets/lerobot/codecs.ts";
import { VideoFrames } from "../src/datasets/lerobot/video-frames.ts";
import { readFrames } from "../src/datasets/frames.ts";
import { sampleWindowsAsync } from "../src/datasets/windows.ts";
import { loadDataset } from "../src/datasets/load.ts";
import { scd, userError, PUSHT_ZARR } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-video-"));
const IMG = "observation.image", FB = 96 * 96 * 3;
const out = path.join(dir, "pusht4");
const skip = () => (fs.existsSync(PUSHT_ZARR) ? false : (console.log("  skipped: ../shared/datasets/pusht_cchi_v7_replay.zarr is absent"), true));
const cpuMs = () => (process.cpuUsage().user + process.cpuUsage().system) / 1e3;
const parquet = async (f: string) => parquetReadObjects({ file: new Uint8Array(fs.readFileSync(f)).buffer });
let src: EpisodeBuffer; // 4 real episodes (161 + 118 + 141 + 159 frames), images in memory

test("export: real Push-T frames as H.264 MP4 in lerobot's v3.0 layout, with its meta/info.json video fields", async () => {
  if (skip()) return;
  const z = await readDpZarr(PUSHT_ZARR, { images: true });
  src = concatEpisodes(z.schema, await Promise.all([0, 1, 2, 3].map((k) => loadEpisode(z, k))));
  await writeLeRobot(out, src, { fps: 10, maxFramesPerFile: 300 }); // files: episodes 0–1 (279 frames), 2–3 (300)
  for (const f of ["videos/observation.image/chunk-000/file-000.mp4", "videos/observation.image/chunk-000/file-001.mp4", "data/chunk-000/file-001.parquet"]) assert.ok(fs.existsSync(path.join(out, f)), f);
  const info = JSON.parse(fs.readFileSync(path.join(out, "meta/info.json"), "utf8"));
  assert.is(info.video_path, "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4", "lerobot's DEFAULT_VIDEO_PATH");
  assert.equal(info.features[IMG], {
    dtype: "video", shape: [96, 96, 3], names: ["height", "width", "channels"],
    info: { "video.height": 96, "video.width": 96, "video.codec": "h264", "video.pix_fmt": "yuv420p", "video.fps": 10, "video.channels": 3, "video.g": 2, has_audio: false, is_depth_map: false },
  });
  const eps = await parquet(path.join(out, "meta/episodes/chunk-000/file-000.parquet"));
  const col = (k: number, c: string) => Number(eps[k][`videos/${IMG}/${c}`]);
  assert.equal(eps.map((_, k) => [col(k, "file_index"), col(k, "from_timestamp"), col(k, "to_timestamp")]), [[0, 0, 16.1], [0, 16.1, 27.9], [1, 0, 14.1], [1, 14.1, 30]]);
  assert.is(col(3, "chunk_index"), 0);
  const rows = await parquet(path.join(out, "data/chunk-000/file-000.parquet"));
  assert.not.ok(IMG in rows[0], "video features are not Parquet columns");
  const stats = JSON.parse(fs.readFileSync(path.join(out, "meta/stats.json"), "utf8"))[IMG];
  assert.is(stats.mean.length, 3);
  assert.is(stats.mean[0][0].length, 1, "per channel, shaped [3, 1, 1] as lerobot's");
  assert.ok(stats.max[0][0][0] <= 1 && stats.min[2][0][0] >= 0, "in [0, 1]");
  assert.equal(stats.count, [579]);
});

test("read: every frame decodes at its timestamp; H.264 round-trip error measured and within tolerance", async () => {
  if (skip()) return;
  const back = (await loadDataset(out, { images: true })).buffer;
  assert.equal(back.schema[IMG], { shape: [96, 96, 3], dtype: "uint8" });
  assert.equal(Array.from(back.episodeEnds), [161, 279, 420, 579]);
  assert.equal(Array.from(back.data.action), Array.from(src.data.action), "tabular features exactly");
  const v = back.frames![IMG] as VideoFrames;
  assert.ok(v instanceof VideoFrames);
  const t0 = cpuMs();
  const all = await readFrames(v, Array.from({ length: 579 }, (_, i) => i));
  const fps = 579 / ((cpuMs() - t0) / 1e3);
  const ref = src.data[IMG] as Uint8Array;
  let sum = 0, max = 0, within16 = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(all[i] - ref[i]);
    sum += d;
    if (d > max) max = d;
    if (d <= 16) within16++;
  }
  const mean = sum / ref.length;
  console.log(`  H.264 round trip, 579 real frames: mean |error| ${mean.toFixed(3)}, max ${max}, ${((100 * within16) / ref.length).toFixed(2)} % within ±16; decode ${fps.toFixed(0)} frames/s (CPU time)`);
  // stated tolerance (video-write.ts): mean ≤ 1 per value, ≥ 99 % of values within ±16; the max sits on chroma edges
  assert.ok(mean <= 1, `mean error ${mean}`);
  assert.ok(within16 / ref.length >= 0.99, `${within16 / ref.length} within ±16`);
  assert.ok(max <= 160, `max error ${max}`);
  assert.ok(mean > 0, "a lossy codec: some error (the frames really went through H.264)");
});

test("seeking by timestamp: a frame asked for alone (cold cache) equals the same frame decoded in sequence; the cache saves decoding", async () => {
  if (skip()) return;
  const seq = (await loadDataset(out, { images: true })).buffer.frames![IMG];
  const all = await readFrames(seq, Array.from({ length: 579 }, (_, i) => i));
  const back = (await loadDataset(out, { images: true })).buffer;
  const v = back.frames![IMG] as VideoFrames;
  for (const t of [500, 3, 421, 278]) assert.equal(Array.from(await readFrames(v, [t])), Array.from(all.subarray(t * FB, (t + 1) * FB)), `frame ${t}`);
  assert.ok(v.decoded <= 8, `${v.decoded} frames decoded for 4 seeks (GOP of 2)`);
  const spec = { [IMG]: [-1, 0], action: [0, 1, 2] };
  const anchors = Int32Array.from([10, 170, 300, 578, 161]);
  const w = await sampleWindowsAsync(back, spec, anchors);
  for (const [i, a] of Array.from(anchors).entries()) assert.equal(Array.from(w.values[IMG].subarray((2 * i + 1) * FB, (2 * i + 2) * FB)), Array.from(all.subarray(a * FB, (a + 1) * FB)).map(Number));
  const decoded = v.decoded;
  await sampleWindowsAsync(back, spec, anchors);
  assert.is(v.decoded, decoded, "the same windows again: all from the cache");
  assert.ok(v.cache.hits > 0);
});

/** A fresh copy of the exported dataset to damage. */
function copy(name: string): string {
  const p = path.join(dir, name);
  fs.cpSync(out, p, { recursive: true });
  return p;
}
async function refused(root: string, needles: RegExp[], kind?: string): Promise<void> {
  try {
    await loadDataset(root, { images: true });
  } catch (e) {
    assert.instance(e, ScdError, String(e));
    for (const n of needles) assert.match((e as Error).message, n);
    assert.not.match((e as Error).message, /\n/, "one line");
    if (kind) assert.is((e as ScdError).kind, kind);
    return;
  }
  assert.unreachable(`${root} was read`);
}
const video = (root: string, file: number) => path.join(root, `videos/${IMG}/chunk-000/file-00${file}.mp4`);

test("bad input: missing, truncated, undecodable codec, wrong size, timestamps past the video — one ScdError each, naming file, feature and value", async () => {
  if (skip()) return;
  let p = copy("missing");
  fs.rmSync(video(p, 1));
  await refused(p, [/file-001\.mp4: missing/, /feature "observation\.image"/, /episode 2 frame 0/], "missing-file");
  p = copy("truncated");
  const bytes = fs.readFileSync(video(p, 0));
  fs.writeFileSync(video(p, 0), bytes.subarray(0, bytes.length >> 1));
  await refused(p, [/file-000\.mp4: feature "observation\.image": not a readable MP4, truncated or corrupt/, new RegExp(`${bytes.length >> 1} bytes`)], "corrupt-file");
  p = copy("codec");
  const mp4 = fs.readFileSync(video(p, 0)), at = mp4.indexOf("avc1", mp4.indexOf("moov")); // the sample entry's codec
  mp4.write("xxxx", at);
  fs.writeFileSync(video(p, 0), mp4);
  await refused(p, [/file-000\.mp4: feature "observation\.image": codec "none" \(meta\/info\.json: video\.codec "h264"\) is not one the decoder has/], "incompatible");
  p = copy("size");
  const info = JSON.parse(fs.readFileSync(path.join(p, "meta/info.json"), "utf8"));
  info.features[IMG].shape = [64, 64, 3];
  fs.writeFileSync(path.join(p, "meta/info.json"), JSON.stringify(info));
  await refused(p, [/file-000\.mp4: feature "observation\.image" has 96 × 96 frames \(width × height\), but meta\/info\.json declares shape \[64,64,3\]/]);
  p = copy("short");
  fs.copyFileSync(video(p, 0), video(p, 1)); // 279 frames (27.9 s) where episodes 2–3 need 300 (30 s)
  await refused(p, [/file-001\.mp4: feature "observation\.image" episode 3 frame \d+ \(t = 2[89]\.\d+ s\) lies beyond the end of the video \(27\.9 s\)/]);
  userError(["dataset", "inspect", p, "--images"], /lies beyond the end of the video/);
});

test("without the optional @napi-rs/webcodecs: one clear error with the install line", async () => {
  try {
    await loadCodecs(`reading video feature "${IMG}"`, "@napi-rs/webcodecs-absent");
    assert.unreachable("loaded");
  } catch (e) {
    assert.instance(e, ScdError);
    assert.match((e as Error).message, /^reading video feature "observation\.image" needs the optional package @napi-rs\/webcodecs-absent \(not installed; .*GPL\): npm install @napi-rs\/webcodecs@1\.3\.1$/);
  }
});

test("CLI: a .scdd with images exports to LeRobot (videos) and imports back with --images", () => {
  if (skip()) return;
  const scdd = path.join(dir, "four.scdd"), lr = path.join(dir, "cli-lr"), back = path.join(dir, "back.scdd");
  let r = scd(["dataset", "import", out, scdd, "--images"]);
  assert.is(r.code, 0, r.stderr);
  r = scd(["dataset", "export", scdd, "--format", "lerobot", "--out", lr]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(fs.existsSync(video(lr, 0)));
  r = scd(["dataset", "inspect", lr, "--images", "--json"]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).features[IMG].shape, [96, 96, 3]);
  r = scd(["dataset", "import", lr, back]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /skipping video feature observation\.image: videos are decoded with --images/);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
