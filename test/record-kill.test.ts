/**
 * A recorder killed with SIGKILL loses at most its flush interval: real `scd run --record x.mcap` and
 * `scd eval --record x.scdd` child processes, killed mid-run; what they left in `<file>.partial` is read back
 * with @mcap/core's McapStreamReader / salvaged by `scd salvage` and read with the package's readers.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { McapStreamReader } from "@mcap/core";
import { readMcapSummary } from "../src/datasets/mcap/read.ts";
import { DatasetReader } from "../src/datasets/native.ts";
import { salvageNative } from "../src/eval/salvage.ts";
import { ROOT, scd } from "./helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-kill-"));

const start = (args: string[]): ChildProcess =>
  spawn(process.execPath, [path.join(ROOT, "bin/scd.js"), ...args], { cwd: ROOT, env: { ...process.env, SCD_QUIET: "1" }, stdio: ["ignore", "pipe", "pipe"] });
const killed = (p: ChildProcess) => new Promise<NodeJS.Signals | null>((r) => (p.kill("SIGKILL"), p.on("exit", (_c, s) => r(s))));

/** Every whole record in an MCAP file as written so far: topic → messages. */
function streamCounts(file: string): Record<string, number> {
  const reader = new McapStreamReader({ validateCrcs: true });
  reader.append(new Uint8Array(fs.readFileSync(file)));
  const topics = new Map<number, string>(), n: Record<string, number> = {};
  for (let r; (r = reader.nextRecord()); ) {
    if (r.type === "Channel") topics.set(r.id, r.topic);
    if (r.type === "Message") n[topics.get(r.channelId)!] = (n[topics.get(r.channelId)!] ?? 0) + 1;
  }
  return n;
}

test("scd run --record x.mcap killed with SIGKILL: the partial file holds every tick older than the 1 s flush", async () => {
  const file = path.join(dir, "run.mcap");
  // the random policy never reaches the goal, so the run goes on until killed
  const p = start(["run", "--policy", "random", "--env", "reach-obstacle-v1", "--test-server", "--map", path.join(ROOT, "examples/ros/reach_map.json"), "--duration", "120", "--record", file]);
  // the live status line, once a second: "[4 s] connected  ticks 41 …"; kill right after one with ≥ 40 ticks
  const ticks = await new Promise<number>((resolve, reject) => {
    let err = "";
    p.stderr!.on("data", (d) => {
      err += d;
      for (const m of err.matchAll(/ticks (\d+)/g)) if (Number(m[1]) >= 40) resolve(Number(m[1]));
    });
    p.on("exit", (code) => reject(new Error(`scd run exited (${code}) before 40 ticks: ${err}`)));
  });
  assert.is(await killed(p), "SIGKILL");
  assert.not.ok(fs.existsSync(file), "no complete file after a kill");
  const n = streamCounts(`${file}.partial`);
  // 10 Hz: ticks logged more than the flush interval (1 s = 10 ticks) before the status line are on disk; 5 ticks'
  // slack for timers late on a loaded machine. Before the fix: 0 (all held in a 1 MiB chunk in memory).
  assert.ok(n["/action"] >= ticks - 15, `${n["/action"]} actions on disk, ${ticks} ticks when killed`);
  assert.ok(n["/observation/observation.state"] >= n["/action"] - 10, "observations from the first second on");

  const r = scd(["salvage", `${file}.partial`]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`salvaged .*run\\.mcap: \\d+ messages on \\d+ channels`));
  const s = await readMcapSummary(file); // the indexed reader: a complete file
  assert.is(s.channels["/action"].messages, n["/action"]);
  assert.ok(s.monotonic);
  assert.is(s.metadata.scd.env, "reach-obstacle-v1");
});

test("scd eval --record x.scdd killed with SIGKILL: every finished episode is salvaged into a readable dataset", async () => {
  const file = path.join(dir, "eval.scdd"), partial = `${file}.partial`;
  const p = start(["eval", "--policy", "expert", "--env", "reach-obstacle-v1", "--episodes", "100000", "--latency", "0", "--record", file]);
  const t0 = Date.now();
  while (!(fs.existsSync(partial) && fs.statSync(partial).size > 50_000) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 100));
  // what was on disk just before the kill: the salvage after it must have at least these episodes
  const before = salvageNative(partial, path.join(dir, "before.scdd")).episodes;
  assert.is(await killed(p), "SIGKILL");
  assert.ok(before >= 2, `${before} episodes before the kill`);
  assert.throws(() => DatasetReader.open(partial), /truncated or unfinished dataset/);

  const r = scd(["salvage", partial]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /salvaged .*eval\.scdd: \d+ whole episodes, \d+ steps/);
  const ds = DatasetReader.open(file);
  assert.ok(ds.numEpisodes >= before, `${ds.numEpisodes} episodes salvaged, ${before} were on disk before the kill`);
  assert.equal(Object.keys(ds.schema).sort(), ["action", "action_is_fallback", "observation.state", "timestamp"]);
  assert.is(ds.readAll().episodeEnds.length, ds.numEpisodes);
  ds.close();
  const again = scd(["salvage", partial]);
  assert.is(again.code, 2);
  assert.match(again.stderr, /--out .*eval\.scdd: exists; pass --force to replace it/);
});

test.run();
