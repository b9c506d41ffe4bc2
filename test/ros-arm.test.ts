/**
 * arm-push-v1 behind rosbridge (examples/ros/arm_push_map*.json): the Panda's joint states by name, the tip and
 * block poses (the block's yaw through its quaternion), the tip target as a PoseStamped; one feature assembled from
 * three topics. The maps' codecs without MuJoCo; the ROS 2 test server with the simulated arm in process; the real
 * `scd run --test-server` (ROS 1 map) watched by a raw rosbridge client; and bad maps refused in one line.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { WebSocket } from "ws";
import { loadTopicMap, parseTopicMap, featureLayout, checkMapAgainstEnv, mapExtensions, type TopicMap } from "../src/ros/topic-map.ts";
import { decodeFields, encodeAction } from "../src/ros/codec.ts";
import { RosbridgeServer } from "../src/ros/bridge-server.ts";
import { TopicBus } from "../src/ros/backends/bus.ts";
import { RosConnector } from "../src/ros/connector.ts";
import { runOverRos } from "../src/ros/run.ts";
import { startSimRobot } from "../src/ros/sim-robot.ts";
import { ROOT, userError } from "./helpers.ts";

const MAP1 = path.join(ROOT, "examples/ros/arm_push_map.json"), MAP2 = path.join(ROOT, "examples/ros/arm_push_map_ros2.json");
const JOINTS = [1, 2, 3, 4, 5, 6, 7].map((i) => `panda_joint${i}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scd-ros-arm-"));
type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The messages a simulated robot publishes for one observation `state`, one per binding. */
function encodeState(map: TopicMap, state: number[]): Msg[] {
  const parts = featureLayout(map).get("observation.state")!.parts;
  return map.observations.map((o, i) => {
    const p = parts.find((q) => q.index === i)!;
    return encodeAction(o.type, o.fields, state.slice(p.offset, p.offset + p.dim!), 1_700_000_000_000, o.set);
  });
}

test("arm-push maps: 14 values from three topics, joints by name, the block's yaw through its quaternion, a tool-down tip target", () => {
  for (const file of [MAP1, MAP2]) {
    const map = loadTopicMap(file);
    assert.equal([...featureLayout(map)].map(([f, e]) => [f, e.dim, e.parts.map((p) => p.offset)]), [["observation.state", 14, [0, 7, 10]]], file);
    const yaw = 0.3, state = [0.1, 0.2, -0.3, -2, 0.5, 2.5, 0.7, 0.41, 0.02, 0.03, 0.55, -0.1, Math.cos(4 * yaw), Math.sin(4 * yaw)];
    const [js, tip, block] = encodeState(map, state);
    assert.equal(js.name, JOINTS);
    assert.equal(js.position, state.slice(0, 7));
    assert.is(tip.header.frame_id, "panda_link0");
    assert.equal(block.pose.position, { x: 0.55, y: -0.1, z: 0.03 });
    assert.ok(Math.abs(block.pose.orientation.z - Math.sin(yaw / 2)) < 1e-9 && Math.abs(block.pose.orientation.w - Math.cos(yaw / 2)) < 1e-9, JSON.stringify(block.pose));
    // and back: the connector's decoding gives the state (float32)
    const back = map.observations.flatMap((o, i) => Array.from((decodeFields([js, tip, block][i], o.fields, 1024) as { values: Float32Array }).values));
    back.forEach((v, i) => assert.ok(Math.abs(v - state[i]) < 1e-6, `value ${i}: ${v} vs ${state[i]}`));
    // a real /joint_states: another order, the gripper's fingers too; by name the arm's seven come out in order
    const real = { name: ["panda_finger_joint1", ...JOINTS].reverse(), position: [0.7, 2.5, 0.5, -2, -0.3, 0.2, 0.1, 0.04] };
    assert.equal(Array.from((decodeFields(real, map.observations[0].fields, 1024) as { values: Float32Array }).values), Array.from(Float32Array.from(state.slice(0, 7))));
    assert.match((decodeFields({ name: JOINTS.slice(0, 6), position: [0, 0, 0, 0, 0, 0] }, map.observations[0].fields, 1024) as { error: string }).error, /joint "panda_joint7" is not in name/);
    // a quarter turn of the cube is the same observation
    const turned = { ...block, pose: { ...block.pose, orientation: { x: 0, y: 0, z: Math.sin((yaw + Math.PI / 2) / 2), w: Math.cos((yaw + Math.PI / 2) / 2) } } };
    const v = (decodeFields(turned, map.observations[2].fields, 1024) as { values: Float32Array }).values;
    assert.ok(Math.abs(v[2] - state[12]) < 1e-6 && Math.abs(v[3] - state[13]) < 1e-6, String(v));
    // the command: tip (x, y) at the pushing height, tool down, in the base frame
    const cmd = encodeAction(map.action.type, map.action.fields, [0.5, 0.1], 1_700_000_000_000, map.action.set) as Msg;
    assert.equal(cmd.pose, { position: { x: 0.5, y: 0.1, z: 0.03 }, orientation: { x: 1, y: 0, z: 0, w: 0 } });
    assert.is(cmd.header.frame_id, "panda_link0");
    assert.equal(mapExtensions(map), ["features from several topics (offset)", "joints by name (names)", "quaternions as yaw (as)", "constant fields (set)"]);
  }
  assert.equal(mapExtensions(loadTopicMap(path.join(ROOT, "examples/ros/reach_map.json"))), [], "reach's map is a plain one");
});

test("arm-push maps: what the schema refuses, naming the file and the binding", () => {
  const raw = JSON.parse(fs.readFileSync(MAP1, "utf8"));
  const bad = (edit: (m: Msg) => void, re: RegExp) => {
    const m = structuredClone(raw);
    edit(m);
    assert.throws(() => parseTopicMap(m, "my_map.json"), (e: Error) => re.test(e.message) && e.message.startsWith("my_map.json: "));
  };
  bad((m) => delete m.observations[1].offset, /feature "observation.state" is mapped twice; .*"offset"/);
  bad((m) => (m.observations[2].offset = 11), /observations\[2\]\.offset is 11, but "observation.state"'s earlier topics end at 10 \(a gap\)/);
  bad((m) => (m.observations[1].fields[2] = "pose.position.w"), /observations\[1\] \(geometry_msgs\/PoseStamped on \/panda\/tip_pose\): field path "pose.position.w": .*Point has no field "w"/);
  bad((m) => (m.observations[2].fields[2].path = "pose.position"), /observations\[2\] .*field path "pose.position": .* a quaternion/);
  bad((m) => (m.action.set["pose.position.z"] = "high"), /action .*field path "pose.position.z": .* a string/);
  bad((m) => (m.observations[0].fields[0].length = 7), /observations\[0\]\.fields\[0\] \("position"\): "names" picks joints/);
  const env = { id: "arm-push-v1", observationSpace: { "observation.state": { low: new Array(14).fill(0) } }, actionSpace: { low: [0, 0] } };
  assert.not.throws(() => checkMapAgainstEnv(loadTopicMap(MAP1), env, "m.json"));
  assert.throws(() => checkMapAgainstEnv(loadTopicMap(MAP1), { ...env, observationSpace: { "observation.state": { low: new Array(15).fill(0) } } }, "m.json"), /topic map m\.json: observation\.state gives 14 values .*arm-push-v1 has 15/);
});

test("ROS 2 test server: the expert drives the simulated arm through roslib; the block moves; the env is freed", async () => {
  const { loadMujoco } = await import("../src/envs/arm-push/mujoco.ts");
  const { ArmPushEnv, ArmPushExpert } = await import("../src/envs/arm-push/index.ts");
  await loadMujoco();
  const map = loadTopicMap(MAP2), env = new ArmPushEnv();
  const bus = new TopicBus(), server = new RosbridgeServer(bus, { ros: 2 });
  await server.start();
  const robot = startSimRobot(bus, env, map, { periodMs: 50 });
  const b0 = env.blockPose();
  const conn = new RosConnector(server.url, map);
  await conn.start();
  assert.equal(Object.keys(conn.observationSpace), ["observation.state"]);
  assert.is(conn.observationSpace["observation.state"].low.length, 14);
  const run = runOverRos(new ArmPushExpert(), conn, { periodMs: 100, strategy: { kind: "receding", execute: 1 }, fallback: "hold" });
  const moved = () => Math.hypot(env.blockPose()[0] - b0[0], env.blockPose()[1] - b0[1]);
  const t0 = performance.now();
  while (!robot.success && moved() < 0.03 && performance.now() - t0 < 120_000) await sleep(100);
  run.stop();
  await sleep(150);
  const m = moved();
  conn.close();
  robot.stop({ closeEnv: true });
  await server.close();
  assert.ok(robot.received.length >= 5, `${robot.received.length} commands received`);
  assert.ok(m >= 0.03 || robot.success, `the block moved ${m.toFixed(3)} m`);
  assert.ok(robot.lastReward > robot.firstReward, `reward ${robot.firstReward} → ${robot.lastReward}`);
  assert.is(conn.stats.malformed, 0, conn.stats.recentErrors.join("; "));
  assert.is(server.stats.rejected, 0, server.rejections.join("; "));
  assert.throws(() => env.blockPose(), /closed/);
});

test("scd run --policy expert --env arm-push-v1 --test-server (ROS 1 map): commands reach the arm, the block moves, a clean exit", async () => {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/scd.js"), "run", "--policy", "expert", "--env", "arm-push-v1", "--test-server", "--map", MAP1, "--duration", "25"], { cwd: ROOT, env: { ...process.env, SCD_QUIET: "1" } });
  let stdout = "", stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  const msgs: Record<string, Msg[]> = {};
  let watcher: WebSocket | null = null;
  child.stderr.on("data", (d) => {
    stderr += d;
    const url = /simulated arm-push-v1 robot at (ws:\/\/\S+)/.exec(stderr)?.[1];
    if (!url || watcher) return;
    // a second client on the same bridge sees what crosses it: the robot's topics and the policy's commands
    watcher = new WebSocket(url);
    watcher.on("open", () => {
      for (const [topic, type] of [["/joint_states", "sensor_msgs/JointState"], ["/block/pose", "geometry_msgs/PoseStamped"], ["/panda/tip_target", "geometry_msgs/PoseStamped"]])
        watcher!.send(JSON.stringify({ op: "subscribe", topic, type }));
    });
    watcher.on("message", (d) => {
      const f = JSON.parse(d.toString());
      if (f.op === "publish") (msgs[f.topic] ??= []).push(f.msg);
    });
    watcher.on("error", () => {});
  });
  const kill = setTimeout(() => child.kill("SIGKILL"), 280_000);
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  clearTimeout(kill);
  (watcher as WebSocket | null)?.close();
  assert.is(code, 0, stderr.slice(-2000));
  assert.not.match(stderr, /\n\s+at |Error/, stderr.slice(-2000));
  assert.match(stderr, /\] connected/);
  assert.match(stdout, /malformed 0/);
  assert.match(stdout, /final safe action published/);
  const n = Number(/simulated robot: (\d+) commands received, (\d+) steps/.exec(stdout)?.[1]);
  assert.ok(n >= 10, `the simulated robot received ${n} commands: ${stdout}`);
  const [r0, r1] = /reward (\S+) → (\S+)/.exec(stdout)!.slice(1).map(Number);
  assert.ok(r1 > r0, `reward ${r0} → ${r1}`);
  // what the watcher saw on the wire
  const js = msgs["/joint_states"] ?? [], blocks = msgs["/block/pose"] ?? [], cmds = msgs["/panda/tip_target"] ?? [];
  assert.ok(js.length >= 10 && blocks.length >= 10 && cmds.length >= 10, `${js.length} joint states, ${blocks.length} block poses, ${cmds.length} commands`);
  assert.equal(js[0].name, JOINTS);
  assert.is(js[0].position.length, 7);
  const p0 = blocks[0].pose.position, p1 = blocks.at(-1)!.pose.position;
  assert.ok(Math.hypot(p1.x - p0.x, p1.y - p0.y) > 0.01, `the block moved from ${JSON.stringify(p0)} to ${JSON.stringify(p1)}`);
  for (const c of cmds) {
    assert.is(c.header.frame_id, "panda_link0");
    assert.equal([c.pose.position.z, c.pose.orientation], [0.03, { x: 1, y: 0, z: 0, w: 0 }]);
    assert.ok(c.pose.position.x >= 0.3 && c.pose.position.x <= 0.7 && Math.abs(c.pose.position.y) <= 0.3, JSON.stringify(c.pose.position));
  }
  // the final safe action holds the last target (arm-push's fallback is "hold"), it does not jump to a default
  const [a, b] = cmds.slice(-2).map((c) => [c.pose.position.x, c.pose.position.y]);
  assert.equal(b, a, "the final command repeats the last one");
});

test("scd run --test-server refuses a map with a feature arm-push-v1 lacks, or a field its message lacks, in one line", () => {
  const m = JSON.parse(fs.readFileSync(MAP1, "utf8"));
  m.observations.push({ feature: "observation.velocity", topic: "/joint_states", type: "sensor_msgs/JointState", fields: [{ path: "velocity", names: JOINTS }] });
  const f1 = path.join(tmp, "velocity_map.json");
  fs.writeFileSync(f1, JSON.stringify(m));
  userError(["run", "--policy", "expert", "--env", "arm-push-v1", "--test-server", "--map", f1, "--duration", "1"], new RegExp(`${f1.replace(/[.\\/]/g, "\\$&")}: observations\\[3\\]\\.feature is "observation\\.velocity", which arm-push-v1 does not have \\(its observations: observation\\.state\\)`));
  const m2 = JSON.parse(fs.readFileSync(MAP1, "utf8"));
  m2.observations[2].fields[1] = "pose.position.v";
  const f2 = path.join(tmp, "typo_map.json");
  fs.writeFileSync(f2, JSON.stringify(m2));
  userError(["run", "--policy", "expert", "--env", "arm-push-v1", "--test-server", "--map", f2, "--duration", "1"], /typo_map\.json: observations\[2\] \(geometry_msgs\/PoseStamped on \/block\/pose\): field path "pose\.position\.v": .*has no field "v"/);
});

test.run();
