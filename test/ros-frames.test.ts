/**
 * Frames that are not strict JSON, from a real `ws` server speaking rosbridge v2: bare NaN / ±Infinity literals
 * (what Python's json.dumps writes) in an unused field (`effort`) or the used one (`position`) of a
 * sensor_msgs/JointState, and a frame cut short. Through the real roslib connector and through `scd run`.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { once } from "node:events";
import { WebSocketServer } from "ws";
import { RosConnector } from "../src/ros/connector.ts";
import { parseTopicMap } from "../src/ros/topic-map.ts";
import type { TimedObs } from "../src/loop/safety.ts";
import { ROOT } from "./helpers.ts";

const RAW_MAP = {
  observations: [{ feature: "observation.state", topic: "/joint_states", type: "sensor_msgs/JointState", fields: [{ path: "position", length: 2 }], low: [-1, -1], high: [1, 1] }],
  action: { topic: "/cmd", type: "geometry_msgs/Twist", fields: ["linear.x", "linear.y"], low: [-1, -1], high: [1, 1] },
  maxAgeMs: 400,
};
const MAP = parseTopicMap(RAW_MAP, "test map");

/** A JointState publish frame as raw text, so that `position` and `effort` can hold bare NaN / Infinity. */
const jointState = (position: string, effort: string) =>
  `{"op":"publish","topic":"/joint_states","msg":{"header":{"seq":1,"stamp":{"secs":0,"nsecs":0},"frame_id":""},"name":["a","b"],"position":${position},"velocity":[0.0,0.0],"effort":${effort}}}`;

/** A rosbridge v2 server that, once /joint_states is subscribed, sends `frame()` every `ms` as a text frame. */
async function rawBridge(frame: () => string, ms = 20) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await once(wss, "listening");
  let sent = 0;
  wss.on("connection", (ws) => {
    let timer: ReturnType<typeof setInterval> | null = null;
    ws.on("message", (d) => {
      const m = JSON.parse(d.toString());
      if (m.op === "subscribe" && m.topic === "/joint_states" && !timer) timer = setInterval(() => (ws.send(frame()), sent++), ms);
    });
    ws.on("close", () => timer && clearInterval(timer));
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`,
    get sent() {
      return sent;
    },
    close: () => new Promise<void>((r) => (wss.clients.forEach((c) => c.terminate()), wss.close(() => r()))),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectTo(url: string) {
  const lines: string[] = [];
  const conn = new RosConnector(url, MAP, { log: (l) => lines.push(l) });
  const obs: TimedObs[] = [];
  conn.obs$.subscribe((o) => obs.push(o));
  await conn.start();
  return { conn, lines, obs };
}

test("bare NaN / Infinity in an unused field: parsed, the used field reaches the loop, nothing malformed", async () => {
  const b = await rawBridge(() => jointState("[0.25, -0.5]", "[NaN, Infinity, -Infinity]"));
  const { conn, lines, obs } = await connectTo(b.url);
  await sleep(400);
  conn.close();
  await b.close();
  assert.ok(conn.stats.received >= 5, `received ${conn.stats.received} of ${b.sent}`);
  assert.is(conn.stats.malformed, 0, lines.join("\n"));
  assert.equal(Array.from(obs.at(-1)!.obs["observation.state"]), [0.25, -0.5]);
});

test("bare NaN / -Infinity in the used field: every frame counted as malformed and logged with topic and value", async () => {
  const b = await rawBridge(() => jointState("[NaN, -Infinity]", "[0.0, 0.0]"));
  const { conn, lines, obs } = await connectTo(b.url);
  await sleep(400);
  conn.close();
  await b.close();
  assert.ok(conn.stats.received >= 5, `received ${conn.stats.received} of ${b.sent}`);
  assert.is(conn.stats.malformed, conn.stats.received);
  assert.is(lines.filter((l) => l.startsWith("malformed")).length, conn.stats.malformed);
  assert.match(lines.find((l) => l.startsWith("malformed"))!, 'malformed sensor_msgs/JointState on /joint_states (feature observation.state): field "position"[0] is NaN');
  assert.is(obs.filter((o) => o.obs["observation.state"]).length, 0, "no observation reaches the loop");
});

test("a frame that does not parse at all is counted as malformed and logged with its topic", async () => {
  const b = await rawBridge(() => jointState("[0.1, 0.2]", "[0.0, 0.0]").slice(0, -10));
  const { conn, lines } = await connectTo(b.url);
  await sleep(400);
  conn.close();
  await b.close();
  assert.ok(conn.stats.malformed >= 5, `malformed ${conn.stats.malformed} of ${b.sent} sent`);
  assert.is(conn.stats.malformed, conn.stats.received);
  assert.match(lines.find((l) => l.includes("unparseable"))!, /^unparseable frame on \/joint_states: /);
});

/** `scd run` as a child process (asynchronous: the bridge lives in this process). */
function scdRun(url: string, seconds: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const map = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "scd-frames-")), "map.json");
  fs.writeFileSync(map, JSON.stringify(RAW_MAP));
  const p = spawn(process.execPath, [path.join(ROOT, "bin/scd.js"), "run", "--policy", "expert", "--env", "reach-obstacle-v1", "--ros", url, "--map", map, "--duration", String(seconds)], { cwd: ROOT, env: { ...process.env, SCD_QUIET: "1" } });
  let stdout = "", stderr = "";
  p.stdout.on("data", (d) => (stdout += d));
  p.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

test("scd run: NaN in effort runs normally; NaN in position is counted, logged, and named as the cause", async () => {
  const ok = await rawBridge(() => jointState("[0.25, -0.5]", "[NaN, NaN]"), 50);
  const good = await scdRun(ok.url, 2);
  await ok.close();
  assert.is(good.code, 0, good.stderr);
  assert.match(good.stdout, /received [1-9]\d*, malformed 0,/);

  const nan = await rawBridge(() => jointState("[NaN, 0.5]", "[0.0, 0.0]"), 50);
  const bad = await scdRun(nan.url, 2);
  await nan.close();
  assert.is(bad.code, 1, bad.stderr);
  const m = /received (\d+), malformed (\d+),/.exec(bad.stdout);
  assert.ok(m && Number(m[1]) > 0 && m[1] === m[2], bad.stdout);
  assert.match(bad.stderr, '[ros] malformed sensor_msgs/JointState on /joint_states (feature observation.state): field "position"[0] is NaN');
  assert.match(bad.stderr, /every inference failed .*; the first: no observation yet — all \d+ messages from rosbridge were malformed, the last: malformed sensor_msgs\/JointState on \/joint_states/);
});

test.run();
