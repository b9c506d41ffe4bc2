/**
 * Demonstrations recorded from a robot's topics and the round trip through training: a simulated reaching robot
 * behind the ROS 2 test server (real WebSocket), teleoperated by the scripted expert publishing geometry_msgs/msg/Twist
 * commands, recorded by the real `scd record` process (episodes by a marker topic, by stdin, split where a topic
 * went stale); `scd train` on the recording; `scd eval --record out.mcap --profile ros2` read back with @mcap/core
 * and the CDR reader and checked against the same evaluation recorded as a dataset.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { McapIndexedReader } from "@mcap/core";
import { FileHandleReadable } from "@mcap/nodejs";
import { parse as parseMsg } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import { RosbridgeServer } from "../src/ros/bridge-server.ts";
import { TopicBus } from "../src/ros/backends/bus.ts";
import { loadTopicMap } from "../src/ros/topic-map.ts";
import { startSimRobot } from "../src/ros/sim-robot.ts";
import { encodeAction, decodeFields } from "../src/ros/codec.ts";
import { ReachExpert } from "../src/envs/reach-obstacle/expert.ts";
import { ReachObstacleEnv } from "../src/envs/reach-obstacle/reach.ts";
import { readDataset } from "../src/datasets/native.ts";
import { ROOT, scd } from "./helpers.ts";

const MAP_FILE = path.join(ROOT, "examples/ros/reach_map_ros2.json");
const MAP = loadTopicMap(MAP_FILE);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scd-ros2-record-"));

/** The real CLI as a child process (this process serves the bridge meanwhile): its exit, and a wait for a line on stderr. */
function scdAsync(args: string[]) {
  const p = spawn(process.execPath, [path.join(ROOT, "bin/scd.js"), ...args], { cwd: ROOT, env: { ...process.env, SCD_QUIET: "1" } });
  let stdout = "", stderr = "";
  p.stdout.on("data", (d) => (stdout += d));
  p.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((res) => p.on("exit", (code) => res({ code: code ?? -1, stdout, stderr })));
  const waitFor = async (re: RegExp, ms = 60_000) => {
    const t0 = Date.now();
    while (!re.test(stderr)) {
      if (Date.now() - t0 > ms || p.exitCode !== null) throw new Error(`no ${re} on stderr: ${stderr}`);
      await sleep(50);
    }
  };
  return { stdin: p.stdin, done, waitFor };
}

/** A robot behind a ROS 2 bridge, teleoperated by the expert: every command it sends and every state it publishes. */
async function teleopRig() {
  const bus = new TopicBus();
  const server = new RosbridgeServer(bus, { ros: 2 });
  await server.start();
  const robot = startSimRobot(bus, new ReachObstacleEnv(), MAP, { periodMs: 40 });
  const states: number[][] = [], commands: number[][] = [];
  let state: Float32Array | null = null, paused = false;
  bus.subscribe("/robot/joint_states", undefined, (m) => {
    const r = decodeFields(m, MAP.observations[0].fields, 64);
    if ("values" in r) (state = r.values), states.push(Array.from(r.values));
  });
  const expert = new ReachExpert(0.05);
  expert.reset(0);
  const timer = setInterval(async () => {
    if (!state || paused) return;
    expert.observe({ obs: { "observation.state": state }, prevAction: null });
    const chunk = expert.sampleChunk();
    const a = Array.from(chunk.subarray(0, 2), (x) => Math.fround(x));
    commands.push(a);
    bus.publish("/robot/cmd_vel", "geometry_msgs/msg/Twist", encodeAction("geometry_msgs/msg/Twist", MAP.action.fields, a));
  }, 50);
  const marker = (on: boolean) => bus.publish("/demo/episode", "std_msgs/msg/Bool", { data: on });
  const reset = () => bus.callService("/robot/reset", {}, 1000);
  const close = async () => (clearInterval(timer), robot.stop(), await server.close());
  return { server, states, commands, marker, reset, close, pause: (p: boolean) => (paused = p) };
}

const has = (rows: number[][], v: number[]) => rows.some((r) => r.length === v.length && r.every((x, i) => Math.fround(x) === v[i]));

test("scd record: two teleoperated episodes from a marker topic, each step the robot's state and the operator's command", async () => {
  const rig = await teleopRig();
  const out = path.join(tmp, "demos.scdd");
  try {
    const run = scdAsync(["record", "--ros", rig.server.url, "--map", MAP_FILE, "--out", out, "--episodes", "2", "--duration", "60"]);
    await run.waitFor(/^recording /m); // markers are not latched: an operator waits for the recorder too
    await sleep(300);
    for (let k = 0; k < 2; k++) {
      await rig.reset();
      rig.marker(true);
      await sleep(2000);
      rig.marker(false);
      await sleep(300);
    }
    const r = await run.done;
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*demos\.scdd: 2 episodes/, r.stdout + r.stderr);
    const { buffer: b, header } = readDataset(out) as ReturnType<typeof readDataset> & { header: { meta: Record<string, unknown> } };
    assert.equal(Object.keys(b.schema).sort(), ["action", "observation.state", "timestamp"]);
    assert.is(b.episodeEnds.length, 2);
    for (const [k, end] of Array.from(b.episodeEnds).entries()) {
      const len = end - (k ? b.episodeEnds[k - 1] : 0);
      assert.ok(len >= 15 && len <= 22, `episode ${k}: ${len} steps for 2 s at 10 Hz`);
    }
    for (let i = 0; i < b.episodeEnds.at(-1)!; i++) {
      assert.ok(has(rig.states, Array.from(b.data["observation.state"].subarray(2 * i, 2 * i + 2))), `step ${i}: a state the robot published`);
      assert.ok(has(rig.commands, Array.from(b.data.action.subarray(2 * i, 2 * i + 2))), `step ${i}: a command the operator sent`);
      if (i && b.data.timestamp[i]) assert.ok(Math.abs(b.data.timestamp[i] - b.data.timestamp[i - 1] - 100) < 40, "10 Hz ticks");
    }
    assert.is(header.meta.fps, 10);
  } finally {
    await rig.close();
  }
});

test("scd record by stdin lines: an operator who stops commanding for 0.8 s (maxAgeMs 400) splits the episode there", async () => {
  const rig = await teleopRig();
  const map = path.join(tmp, "stdin_map.json");
  const { episodes: _e, ...noMarker } = JSON.parse(fs.readFileSync(MAP_FILE, "utf8"));
  fs.writeFileSync(map, JSON.stringify(noMarker));
  const out = path.join(tmp, "stdin.scdd");
  try {
    const run = scdAsync(["record", "--ros", rig.server.url, "--map", map, "--out", out, "--duration", "60"]);
    await run.waitFor(/^recording /m);
    await sleep(300);
    run.stdin.write("start\n");
    await run.waitFor(/episode 0 started \(stdin\)/);
    await sleep(1500);
    rig.pause(true);
    await sleep(800);
    rig.pause(false);
    await sleep(1500);
    run.stdin.write("stop\n");
    await sleep(300);
    run.stdin.write("quit\n");
    const r = await run.done;
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /ended by stale: action \d+ ms old \(maxAgeMs 400\)/, r.stderr);
    const { buffer: b } = readDataset(out);
    assert.is(b.episodeEnds.length, 2, `episodes ${Array.from(b.episodeEnds)}`);
  } finally {
    await rig.close();
  }
});

test("round trip: train 20 steps on the recording, then scd eval --record out.mcap --profile ros2 reads back as the same values", async () => {
  const demos = path.join(tmp, "demos.scdd"), run = path.join(tmp, "run");
  const t = scd(["train", "--dataset", demos, "--steps", "20", "--batch", "8", "--out", run, "--val-every", "0", "--ckpt-every", "0"]);
  assert.is(t.code, 0, t.stderr);
  const ckpt = path.join(run, "checkpoint");
  const common = ["eval", "--policy", ckpt, "--env", "reach-obstacle-v1", "--episodes", "2", "--seed-start", "7", "--latency", "0", "--parallel", "1"];
  const a = scd([...common, "--record", path.join(tmp, "eval.scdd")]);
  assert.is(a.code, 0, a.stderr);
  const bagFile = path.join(tmp, "eval.mcap");
  const b = scd([...common, "--record", bagFile, "--profile", "ros2", "--map", MAP_FILE]);
  assert.is(b.code, 0, b.stderr);
  const ds = readDataset(path.join(tmp, "eval.scdd")).buffer;
  const fh = await fs.promises.open(bagFile, "r");
  const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(fh) });
  assert.is(reader.header.profile, "ros2");
  const decoders = new Map([...reader.channelsById.values()].map((c) => {
    const s = reader.schemasById.get(c.schemaId)!;
    assert.equal([s.encoding, c.messageEncoding], ["ros2msg", "cdr"]);
    return [c.id, { topic: c.topic, type: s.name, r: new MessageReader(parseMsg(new TextDecoder().decode(s.data), { ros2: true })) }];
  }));
  const obs: number[] = [], act: number[] = [];
  for await (const m of reader.readMessages({ topics: ["/robot/joint_states", "/robot/cmd_vel"] })) {
    const d = decoders.get(m.channelId)!;
    const msg = d.r.readMessage(m.data) as { position: Float64Array; linear: { x: number; y: number } };
    if (d.topic === "/robot/joint_states") assert.is(d.type, "sensor_msgs/msg/JointState"), obs.push(...msg.position);
    else assert.is(d.type, "geometry_msgs/msg/Twist"), act.push(msg.linear.x, msg.linear.y);
  }
  await fh.close();
  assert.equal(obs.map(Math.fround), Array.from(ds.data["observation.state"]), "observations: bag (CDR) = dataset");
  assert.equal(act.map(Math.fround), Array.from(ds.data.action), "actions: bag (CDR) = dataset");
  // and the bag imports back without a map (the topic map is stored in it), episode by episode
  const back = path.join(tmp, "back.scdd");
  const imp = scd(["dataset", "import", bagFile, back]);
  assert.is(imp.code, 0, imp.stderr);
  const bb = readDataset(back).buffer;
  assert.equal(Array.from(bb.episodeEnds), Array.from(ds.episodeEnds));
  assert.equal(Array.from(bb.data.action), Array.from(ds.data.action));
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
