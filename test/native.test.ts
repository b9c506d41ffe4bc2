import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DatasetWriter, DatasetReader, writeDataset, readDataset } from "../src/datasets/native.ts";
import { concatEpisodes, type Schema } from "../src/datasets/episodes.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-native-"));
const schema: Schema = { "observation.state": { shape: [5] }, action: { shape: [2] }, img: { shape: [2, 2, 3], dtype: "uint8" } };
const ep = (n: number, base: number) => ({
  "observation.state": Float32Array.from({ length: 5 * n }, (_, i) => base + i * 0.5),
  action: Float32Array.from({ length: 2 * n }, (_, i) => base - i),
  img: Uint8Array.from({ length: 12 * n }, (_, i) => (base + i) % 256),
});

test("streaming write then lazy read round-trips typed arrays exactly", () => {
  const p = path.join(dir, "a.scdd");
  const w = new DatasetWriter(p, schema, { note: "x" });
  w.appendEpisode(ep(3, 1));
  w.appendEpisode(ep(5, 100));
  assert.not.ok(fs.existsSync(p), "not visible before finalize");
  w.finalize();
  assert.not.ok(fs.existsSync(w.partialPath));
  const r = DatasetReader.open(p);
  assert.is(r.numEpisodes, 2);
  assert.is(r.numSteps, 8);
  assert.equal(r.header.meta, { note: "x" });
  const e1 = r.readEpisode(1);
  assert.ok(e1.action instanceof Float32Array && e1.img instanceof Uint8Array);
  assert.equal(Array.from(e1.action), Array.from(ep(5, 100).action));
  const all = r.readAll();
  assert.equal(Array.from(all.episodeEnds), [3, 8]);
  assert.equal(Array.from(all.data.img), Array.from(concatEpisodes(schema, [ep(3, 1), ep(5, 100)]).data.img));
  r.close();
});

test("writeDataset/readDataset round-trip a whole buffer", () => {
  const p = path.join(dir, "b.scdd");
  const buf = concatEpisodes(schema, [ep(2, 0), ep(4, 7), ep(1, 3)]);
  writeDataset(p, buf);
  const back = readDataset(p).buffer;
  assert.equal(back.schema, schema);
  for (const k of Object.keys(schema)) assert.equal(Array.from(back.data[k]), Array.from(buf.data[k]));
});

function good(): string {
  const p = path.join(dir, `g${Math.random().toString(36).slice(2)}.scdd`);
  writeDataset(p, concatEpisodes(schema, [ep(3, 1), ep(2, 2)]));
  return p;
}

test("a file cut short anywhere is rejected as truncated", () => {
  const p = good();
  const bytes = fs.readFileSync(p);
  for (const cut of [4, 20, Math.floor(bytes.length / 2), bytes.length - 1]) {
    fs.writeFileSync(p, bytes.subarray(0, cut));
    assert.throws(() => DatasetReader.open(p), (e: Error) => /truncated|not an scd dataset/.test(e.message) && e.message.includes(p));
  }
});

test("an interrupted recording (never finalized) does not read as a dataset", () => {
  const p = path.join(dir, "c.scdd");
  const w = new DatasetWriter(p, schema);
  w.appendEpisode(ep(3, 1));
  // simulate a crash: the partial file is all there is
  assert.not.ok(fs.existsSync(p));
  assert.throws(() => DatasetReader.open(w.partialPath), /unfinished/);
  w.abort();
  assert.not.ok(fs.existsSync(w.partialPath));
});

test("a flipped byte inside an episode is caught by its checksum", () => {
  const p = good();
  const bytes = fs.readFileSync(p);
  bytes[bytes.indexOf(Buffer.from("episode")) + 40] ^= 0xff;
  fs.writeFileSync(p, bytes);
  const r = DatasetReader.open(p);
  assert.throws(() => r.readAll(), /episode 0 is corrupt \(checksum mismatch\)/);
  r.close();
});

test("unknown format version and wrong magic are named", () => {
  const p = good();
  const bytes = fs.readFileSync(p);
  const i = bytes.indexOf(Buffer.from("version"));
  bytes[i + 7] = 9; // msgpack positive fixint 1 -> 9
  fs.writeFileSync(p, bytes);
  assert.throws(() => DatasetReader.open(p), /unsupported format version 9/);
  const q = path.join(dir, "junk.scdd");
  fs.writeFileSync(q, "hello world, not a dataset at all");
  assert.throws(() => DatasetReader.open(q), /not an scd dataset/);
  assert.throws(() => DatasetReader.open(path.join(dir, "missing.scdd")), /cannot open \(ENOENT\)/);
});

test("shape mismatch, missing feature, wrong dtype and NaN are refused at append", () => {
  const w = new DatasetWriter(path.join(dir, "d.scdd"), schema);
  assert.throws(() => w.appendEpisode({ ...ep(2, 0), action: new Float32Array(3) }), /"action" has 3 values, not a multiple/);
  assert.throws(() => w.appendEpisode({ ...ep(2, 0), action: new Float32Array(6) }), /"action" has 3 steps but others have 2/);
  const { img: _img, ...noImg } = ep(2, 0);
  assert.throws(() => w.appendEpisode(noImg), /missing feature "img"/);
  assert.throws(() => w.appendEpisode({ ...ep(2, 0), img: new Float32Array(24) }), /must be a Uint8Array/);
  const bad = ep(2, 0);
  (bad.action as Float32Array)[1] = NaN;
  assert.throws(() => w.appendEpisode(bad), /non-finite value \(NaN\)/);
  w.abort();
});

test.run();
