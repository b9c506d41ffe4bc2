/**
 * ROS 2 over rosbridge: the test server playing rosbridge for ROS 2 (its type names, `builtin_interfaces/Time`
 * stamps, messages carried as CDR, `qos` on subscribe/advertise) over a real WebSocket, driven by the real roslib
 * connector with a ROS 2 topic map; what differs from ROS 1 (type names, stamps, header seq) is checked on the
 * wire; `scd run --test-server` drives the simulated robot through it and records a ROS 2 bag read back with
 * @mcap/core and the CDR reader.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { WebSocket } from "ws";
import { McapIndexedReader } from "@mcap/core";
import { FileHandleReadable } from "@mcap/nodejs";
import { parse as parseMsg } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import { RosbridgeServer } from "../src/ros/bridge-server.ts";
import { TopicBus } from "../src/ros/backends/bus.ts";
import { RosConnector } from "../src/ros/connector.ts";
import { loadTopicMap, mapRosVersion } from "../src/ros/topic-map.ts";
import { runOverRos } from "../src/ros/run.ts";
import { startSimRobot } from "../src/ros/sim-robot.ts";
import { ReachExpert } from "../src/envs/reach-obstacle/expert.ts";
import { ReachObstacleEnv } from "../src/envs/reach-obstacle/reach.ts";
import { ROOT, scd } from "./helpers.ts";

const MAP_FILE = path.join(ROOT, "examples/ros/reach_map_ros2.json");
const MAP = loadTopicMap(MAP_FILE);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scd-ros2-bridge-"));

/** A raw rosbridge client: send ops, collect the frames for a topic. */
async function raw(url: string) {
  const ws = new WebSocket(url);
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  const frames: Record<string, unknown>[] = [];
  ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
  return { ws, frames, send: (o: object) => ws.send(JSON.stringify(o)) };
}

test("the ROS 2 test server: the expert drives the robot through roslib with ROS 2 types, QoS and sec/nanosec stamps", async () => {
  assert.is(mapRosVersion(MAP), 2);
  const bus = new TopicBus();
  const server = new RosbridgeServer(bus, { ros: 2 });
  await server.start();
  const robot = startSimRobot(bus, new ReachObstacleEnv(), MAP, { periodMs: 50 });
  const onBus: Record<string, unknown>[] = [];
  bus.subscribe("/robot/cmd_vel", undefined, (m) => onBus.push(m as Record<string, unknown>));
  const conn = new RosConnector(server.url, MAP, { minBackoffMs: 5, maxBackoffMs: 20 });
  await conn.start();
  const watcher = await raw(server.url);
  watcher.send({ op: "subscribe", topic: "/robot/joint_states", type: "sensor_msgs/msg/JointState" });
  const run = runOverRos(new ReachExpert(0.05), conn, { periodMs: 50, strategy: { kind: "receding", execute: 1 }, fallback: "zero" });
  const t0 = performance.now();
  while (!robot.success && performance.now() - t0 < 15000) await sleep(50);
  run.stop();
  await sleep(100);
  assert.ok(robot.success, "the robot reached the goal over the ROS 2 bridge");
  assert.is(conn.stats.malformed, 0);
  assert.equal(server.rejections, [], "nothing refused");
  // QoS from the map went into rosbridge's ops
  assert.equal(server.qos.get("subscribe /robot/joint_states"), { reliability: "best_effort", depth: 1 });
  assert.equal(server.qos.get("advertise /robot/cmd_vel"), { reliability: "reliable", depth: 1 });
  // what a ROS 2 bridge sends: header without seq, builtin_interfaces/Time {sec, nanosec} near the wall clock
  const js = watcher.frames.find((f) => f.topic === "/robot/joint_states")!.msg as { header: Record<string, unknown>; position: number[] };
  assert.equal(Object.keys(js.header).sort(), ["frame_id", "stamp"]);
  const st = js.header.stamp as { sec: number; nanosec: number };
  assert.equal(Object.keys(st).sort(), ["nanosec", "sec"]);
  assert.ok(Math.abs(st.sec + st.nanosec / 1e9 - Date.now() / 1000) < 30, "stamped with the wall clock");
  assert.is(js.position.length, 2);
  // the action went through CDR: a whole geometry_msgs/msg/Twist, last one the safe zero
  assert.equal(Object.keys(onBus.at(-1)!).sort(), ["angular", "linear"]);
  assert.equal(onBus.at(-1), { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
  watcher.ws.close();
  robot.stop();
  conn.close();
  await server.close();
});

test("ROS 2 refuses a ROS 1 header (seq, {secs, nsecs}), a bad QoS policy and an unknown type; ROS 1 refuses pkg/msg/Name", async () => {
  const bus = new TopicBus();
  const got: unknown[] = [];
  bus.subscribe("/js", undefined, (m) => got.push(m));
  const s2 = new RosbridgeServer(bus, { ros: 2 }), s1 = new RosbridgeServer(new TopicBus());
  await s2.start();
  await s1.start();
  const c = await raw(s2.url), c1 = await raw(s1.url);
  try {
    c.send({ op: "advertise", topic: "/js", type: "sensor_msgs/JointState" }); // rosbridge for ROS 2 takes both spellings
    c.send({ op: "publish", topic: "/js", msg: { header: { seq: 3, stamp: { secs: 1, nsecs: 0 }, frame_id: "" }, position: [1] } });
    c.send({ op: "publish", topic: "/js", msg: { header: { stamp: { sec: 1, nanosec: 5 } }, position: [1, 2] } });
    c.send({ op: "subscribe", topic: "/x", type: "geometry_msgs/msg/Twist", qos: { reliability: "sometimes" } });
    c.send({ op: "subscribe", topic: "/y", type: "geometry_msgs/msg/NoSuchType" });
    await sleep(200);
    assert.is(got.length, 1, "only the ROS 2 message went through");
    assert.equal(got[0], { header: { stamp: { sec: 1, nanosec: 5 }, frame_id: "" }, name: [], position: [1, 2], velocity: [], effort: [] });
    assert.match(s2.rejections[0], /^publish \/js: msg\.header: std_msgs\/msg\/Header has no field "seq" \(it has stamp, frame_id\)$/);
    assert.match(s2.rejections[1], /qos 'sometimes' is not a valid reliability policy name/);
    assert.match(s2.rejections[2], /no ROS 2 message definition for geometry_msgs\/msg\/NoSuchType/);
    c1.send({ op: "subscribe", topic: "/js", type: "sensor_msgs/msg/JointState" });
    await sleep(100);
    assert.match(s1.rejections[0], /sensor_msgs\/msg\/JointState is not a valid type string \(ROS 1 names are pkg\/Name\)/);
  } finally {
    c.ws.close();
    c1.ws.close();
    await s2.close();
    await s1.close();
  }
});

test("scd run --test-server with a ROS 2 map reaches the goal and --record --profile ros2 writes a bag @mcap/core and the CDR reader read", async () => {
  const bag = path.join(tmp, "run.mcap");
  const r = scd(["run", "--policy", "expert", "--env", "reach-obstacle-v1", "--test-server", "--map", MAP_FILE, "--duration", "20", "--record", bag, "--profile", "ros2"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /robot reached the goal/);
  assert.match(r.stdout, /final safe action published/);
  const fh = await fs.promises.open(bag, "r");
  const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(fh) });
  assert.is(reader.header.profile, "ros2");
  const chans = new Map([...reader.channelsById.values()].map((c) => [c.topic, c]));
  const js = chans.get("/robot/joint_states")!, cmd = chans.get("/robot/cmd_vel")!;
  for (const [c, type] of [[js, "sensor_msgs/msg/JointState"], [cmd, "geometry_msgs/msg/Twist"]] as const) {
    const s = reader.schemasById.get(c.schemaId)!;
    assert.equal([s.name, s.encoding, c.messageEncoding], [type, "ros2msg", "cdr"]);
    assert.ok(c.metadata.get("offered_qos_profiles")!.includes("depth: 1"));
  }
  assert.match(js.metadata.get("offered_qos_profiles")!, /reliability: 2/); // best_effort, as the map says
  const readers = new Map([js, cmd].map((c) => [c.id, new MessageReader(parseMsg(new TextDecoder().decode(reader.schemasById.get(c.schemaId)!.data), { ros2: true }))]));
  let n = 0, last: { linear: { x: number; y: number } } | null = null;
  for await (const m of reader.readMessages({ topics: ["/robot/joint_states", "/robot/cmd_vel"] })) {
    const msg = readers.get(m.channelId)!.readMessage(m.data) as never;
    n++;
    if (m.channelId === js.id) {
      const p = (msg as { position: Float64Array }).position;
      assert.is(p.length, 2);
      assert.ok(Math.abs(p[0]) <= 1 && Math.abs(p[1]) <= 1);
      const st = (msg as { header: { stamp: { sec: number; nanosec: number } } }).header.stamp;
      assert.is(BigInt(st.sec) * 1_000_000_000n + BigInt(st.nanosec), m.logTime, "the header stamp is the tick time");
    } else last = msg as never;
  }
  await fh.close();
  assert.ok(n > 20, `${n} messages`);
  assert.equal([last!.linear.x, last!.linear.y], [0, 0], "the last command recorded is a stop");
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
