/**
 * ROS 2 bags in and out: the CDR bytes of standard messages against their published layout (OMG XCDR1, as ROS 2's
 * rmw writes it), the ros2msg schema text, every map-supported message type through a real MCAP bag (written by
 * the real serialiser, read by @mcap/core) and `scd dataset import` back to the same arrays, resampling at a control
 * rate with marker episodes and staleness splits, a ROS 1 bag written by Debian's real rosbag (Python), and bad
 * bags refused with one `scd: error:` line.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { McapWriter } from "@mcap/core";
import { FileHandleWritable } from "@mcap/nodejs";
import { parse as parseMsg } from "@foxglove/rosmsg";
import { cdrCodec, msgSchemaText } from "../src/datasets/ros-messages.ts";
import { encodeFields } from "../src/datasets/ros-fields.ts";
import { Ros2BagWriter, msToNs } from "../src/datasets/ros2-bag/writer.ts";
import { readDataset } from "../src/datasets/native.ts";
import { scd, userError } from "./helpers.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scd-ros2-bags-"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const f64 = (x: number) => { const b = Buffer.alloc(8); b.writeDoubleLE(x); return b.toString("hex"); };
const T0 = 1_700_000_000_000; // ms since the epoch

test("CDR bytes of Twist, JointState and Float64MultiArray match the XCDR1 layout (encapsulation, alignment, strings, sequences)", () => {
  // header 00 01 00 00 = CDR_LE; primitives aligned to their size from the first byte after the header
  const twist = cdrCodec("geometry_msgs/msg/Twist").write({ linear: { x: 1, y: -2, z: 0.5 }, angular: { x: 0, y: 0, z: 3 } });
  assert.is(hex(twist), "00010000" + [1, -2, 0.5, 0, 0, 3].map(f64).join(""));
  const js = cdrCodec("sensor_msgs/msg/JointState").write({ header: { stamp: { sec: 5, nanosec: 7 }, frame_id: "a" }, name: ["j1"], position: [1.5], velocity: [], effort: [] });
  // sec, nanosec | "a": len 2 (with NUL), 'a' NUL, pad 2 | name: count 1, "j1": len 3, 'j' '1' NUL, pad 1 | position: count 1, 1.5 (offset 32, 8-aligned) | velocity: 0 | effort: 0
  assert.is(hex(js), "00010000" + "05000000" + "07000000" + "02000000" + "6100" + "0000" + "01000000" + "03000000" + "6a3100" + "00" + "01000000" + f64(1.5) + "00000000" + "00000000");
  const fa = cdrCodec("std_msgs/msg/Float64MultiArray").write({ layout: { dim: [], data_offset: 0 }, data: [0.25] });
  // dim count 0, data_offset 0, data count 1 (ends at 12), pad 4 to the 8-byte boundary, 0.25
  assert.is(hex(fa), "00010000" + "00000000" + "00000000" + "01000000" + "00000000" + f64(0.25));
  assert.equal(cdrCodec("sensor_msgs/msg/JointState").read(js), { header: { stamp: { sec: 5, nanosec: 7 }, frame_id: "a" }, name: ["j1"], position: [1.5], velocity: [], effort: [] });
});

test("ros2msg schema text: rosbag2's layout (root, then MSG: dependencies once, sorted), parsed back by @foxglove/rosmsg", () => {
  const s = msgSchemaText("geometry_msgs/msg/PoseStamped", 2);
  const sep = "=".repeat(80);
  assert.ok(s.startsWith("std_msgs/Header header\ngeometry_msgs/Pose pose\n"));
  assert.equal([...s.matchAll(/^MSG: (.+)$/gm)].map((m) => m[1]), ["geometry_msgs/Pose", "geometry_msgs/Point", "geometry_msgs/Quaternion", "std_msgs/Header", "builtin_interfaces/Time"]);
  assert.ok(s.includes(`\n${sep}\nMSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec\n`));
  assert.ok(s.includes("float64 w 1"), "ROS 2 default values are kept");
  const defs = parseMsg(s, { ros2: true });
  assert.is(defs.find((d) => d.name === "std_msgs/Header")!.definitions[0].type, "time");
});

/** Every type a topic map supports, on its own topic, with the fields that give its values. */
const TYPES = [
  { feature: "js", topic: "/js", type: "sensor_msgs/msg/JointState", fields: [{ path: "position", length: 3 }, { path: "velocity", indices: [1] }], dim: 4 },
  { feature: "pt", topic: "/pt", type: "geometry_msgs/msg/Point", fields: [{ path: "x" }, { path: "y" }, { path: "z" }], dim: 3 },
  { feature: "pose", topic: "/pose", type: "geometry_msgs/msg/Pose", fields: [{ path: "position.x" }, { path: "orientation.w" }], dim: 2 },
  { feature: "ps", topic: "/ps", type: "geometry_msgs/msg/PoseStamped", fields: [{ path: "pose.position.y" }, { path: "pose.orientation.z" }], dim: 2 },
  { feature: "tw", topic: "/tw", type: "geometry_msgs/msg/Twist", fields: [{ path: "linear.x" }, { path: "angular.z" }], dim: 2 },
  { feature: "f32", topic: "/f32", type: "std_msgs/msg/Float32MultiArray", fields: [{ path: "data", length: 4 }], dim: 4 },
  { feature: "f64", topic: "/f64", type: "std_msgs/msg/Float64MultiArray", fields: [{ path: "data", length: 2 }], dim: 2 },
  { feature: "jt", topic: "/jt", type: "trajectory_msgs/msg/JointTrajectory", fields: [{ path: "points.0.positions", length: 2 }], dim: 2 },
];
const ACTION = { topic: "/cmd", type: "geometry_msgs/msg/Twist", fields: [{ path: "linear.x" }, { path: "linear.y" }], low: [-1, -1], high: [1, 1] };
/** Exactly representable in float32: value j of feature f at step k. */
const val = (f: number, k: number, j: number) => (f + 1) * 0.5 + k * 0.25 - j * 0.125;
const N = 12;

async function writeAllTypesBag(file: string, from = 0, to = N): Promise<void> {
  const bag = await Ros2BagWriter.open(file);
  for (let k = from; k < to; k++) {
    const t = T0 + k * 100;
    TYPES.forEach((ty, f) => bag.write(ty.topic, ty.type, BigInt(t) * 1_000_000n, encodeFields(ty.type, 2, ty.fields, Array.from({ length: ty.dim }, (_, j) => val(f, k, j)), t)));
    bag.write(ACTION.topic, ACTION.type, BigInt(t) * 1_000_000n, encodeFields(ACTION.type, 2, ACTION.fields, [val(9, k, 0), val(9, k, 1)], t));
  }
  await bag.close();
}
const allTypesMap = (extra: object = {}) => ({ observations: TYPES.map(({ dim: _d, ...b }) => b), action: ACTION, maxAgeMs: 150, rateHz: 10, ...extra });

function checkAllTypes(file: string, steps = N): void {
  const { buffer: b } = readDataset(file);
  assert.equal(Array.from(b.episodeEnds), [steps]);
  TYPES.forEach((ty, f) => {
    assert.equal(b.schema[ty.feature].shape, [ty.dim], ty.feature);
    const want = Array.from({ length: steps * ty.dim }, (_, i) => val(f, Math.floor(i / ty.dim), i % ty.dim));
    assert.equal(Array.from(b.data[ty.feature]), want, `${ty.type} (${ty.feature}) round trip`);
  });
  assert.equal(Array.from(b.data.action), Array.from({ length: steps * 2 }, (_, i) => val(9, Math.floor(i / 2), i % 2)));
  assert.equal(Array.from(b.data.timestamp), Array.from({ length: steps }, (_, k) => k * 100));
}

test("every map-supported message type: serialise → ROS 2 bag (.mcap) → scd dataset import → the same arrays", async () => {
  const bag = path.join(tmp, "all.mcap"), map = path.join(tmp, "all_map.json"), out = path.join(tmp, "all.scdd");
  await writeAllTypesBag(bag);
  fs.writeFileSync(map, JSON.stringify(allTypesMap()));
  const r = scd(["dataset", "import", bag, out, "--map", map]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /1 episodes, 12 steps/);
  checkAllTypes(out);
});

test("a rosbag2 directory split in two .mcap files (metadata.yaml) is one recording; a folder of bags gives one episode per bag", async () => {
  const dir = path.join(tmp, "split_bag");
  fs.mkdirSync(dir);
  await writeAllTypesBag(path.join(dir, "split_bag_0.mcap"), 0, 6);
  await writeAllTypesBag(path.join(dir, "split_bag_1.mcap"), 6, N);
  fs.writeFileSync(path.join(dir, "metadata.yaml"), `rosbag2_bagfile_information:\n  version: 5\n  storage_identifier: mcap\n  relative_file_paths:\n    - split_bag_0.mcap\n    - split_bag_1.mcap\n`);
  const map = path.join(tmp, "all_map.json"), out = path.join(tmp, "split.scdd");
  assert.is(scd(["dataset", "import", dir, out, "--map", map]).code, 0);
  checkAllTypes(out);
  const folder = path.join(tmp, "bags");
  fs.mkdirSync(folder);
  await writeAllTypesBag(path.join(folder, "a.mcap"));
  await writeAllTypesBag(path.join(folder, "b.mcap"));
  const r = scd(["dataset", "import", folder, path.join(tmp, "two.scdd"), "--map", map]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 episodes, 24 steps/);
});

test("resampling: nearest previous sample per 10 Hz tick, episodes from a marker topic, a stale topic splits the episode", async () => {
  const file = path.join(tmp, "teleop.mcap");
  const bag = await Ros2BagWriter.open(file);
  const at = (ms: number) => msToNs(T0 + ms);
  const js: number[] = [];
  for (let k = 0; k * 33 < 4200; k++) {
    const ms = k * 33 + ((k * 7) % 5); // 30 Hz with jitter
    if (ms > 2600 && ms < 3200) continue; // the joint states stop for 0.6 s (maxAgeMs 200)
    js.push(ms);
    bag.write("/joint_states", "sensor_msgs/msg/JointState", at(ms), encodeFields("sensor_msgs/msg/JointState", 2, [{ path: "position" }], [ms, k], T0 + ms));
  }
  for (let ms = 0; ms < 4200; ms += 50) bag.write("/cmd_vel", "geometry_msgs/msg/Twist", at(ms), encodeFields("geometry_msgs/msg/Twist", 2, [{ path: "linear.x" }], [ms], T0 + ms));
  for (const [ms, on] of [[100, true], [1500, false], [2000, true], [4000, false]] as const) bag.write("/demo/episode", "std_msgs/msg/Bool", at(ms), { data: on });
  await bag.close();
  const map = path.join(tmp, "teleop_map.json");
  fs.writeFileSync(map, JSON.stringify({
    observations: [{ feature: "observation.state", topic: "/joint_states", type: "sensor_msgs/msg/JointState", fields: [{ path: "position", length: 2 }] }],
    action: { topic: "/cmd_vel", type: "geometry_msgs/msg/Twist", fields: ["linear.x"], low: [-1e4], high: [1e4] },
    maxAgeMs: 200, rateHz: 10, episodes: { topic: "/demo/episode", type: "std_msgs/msg/Bool" },
  }));
  const out = path.join(tmp, "teleop.scdd");
  const r = scd(["dataset", "import", file, out, "--map", map]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /episode split at .*\/joint_states's newest sample is \d+ ms old \(maxAgeMs 200\)/);
  const { buffer: b } = readDataset(out);
  const ends = Array.from(b.episodeEnds);
  assert.is(ends.length, 3, `episodes ${ends}`); // [0.1, 1.5] s, and [2.0, 4.0] s split where the joint states stop
  // the commands come every 50 ms and carry their time, so a tick's time is its command's value
  const tick = Array.from(b.data.action);
  let s = 0;
  for (const end of ends) {
    for (let i = s; i < end; i++) {
      const newest = Math.max(...js.filter((x) => x <= tick[i]));
      assert.is(b.data["observation.state"][2 * i], newest, `tick ${tick[i]} ms: the newest joint state at or before it`);
      assert.ok(tick[i] - newest <= 200, "fresh");
      if (i > s) assert.is(tick[i] - tick[i - 1], 100, "evenly spaced");
      assert.is(Math.round(b.data.timestamp[i]), tick[i] - tick[s]);
    }
    s = end;
  }
  assert.equal([tick[0], tick[ends[0] - 1]], [100, 1500]);
  assert.equal([tick[ends[0]], tick[ends[2] - 1]], [2000, 4000]);
  assert.ok(tick[ends[1] - 1] < 2900 && tick[ends[1]] >= 3200, `split around the gap: ${tick[ends[1] - 1]} → ${tick[ends[1]]}`);
});

test("a ROS 1 bag written by Debian's rosbag (Python) imports through @foxglove/rosbag", async () => {
  const py = "/usr/bin/python3";
  if (spawnSync(py, ["-c", "import rosbag, sensor_msgs.msg, geometry_msgs.msg"]).status !== 0) {
    console.log("  (skipped: python3-rosbag with sensor_msgs/geometry_msgs not installed)");
    return;
  }
  const file = path.join(tmp, "ros1.bag");
  const script = `
import rosbag, rospy
from sensor_msgs.msg import JointState
from geometry_msgs.msg import Twist
b = rosbag.Bag(${JSON.stringify(file)}, 'w')
for k in range(20):
    t = rospy.Time(1700000000, k * 50000000)
    js = JointState(position=[0.5 * k, -0.25 * k]); js.header.stamp = t
    b.write('/joint_states', js, t)
    tw = Twist(); tw.linear.x = 0.125 * k
    b.write('/cmd_vel', tw, t)
b.close()
`;
  const w = spawnSync(py, ["-c", script], { encoding: "utf8" });
  assert.is(w.status, 0, w.stderr);
  const map = path.join(tmp, "ros1_map.json");
  fs.writeFileSync(map, JSON.stringify({
    observations: [{ feature: "observation.state", topic: "/joint_states", type: "sensor_msgs/JointState", fields: [{ path: "position", length: 2 }] }],
    action: { topic: "/cmd_vel", type: "geometry_msgs/Twist", fields: ["linear.x"], low: [-5], high: [5] },
    maxAgeMs: 100, rateHz: 10, stamp: "header",
  }));
  const out = path.join(tmp, "ros1.scdd");
  const r = scd(["dataset", "import", file, out, "--map", map]);
  assert.is(r.code, 0, r.stderr);
  const { buffer: b } = readDataset(out);
  assert.equal(Array.from(b.episodeEnds), [10]); // 0.95 s at 10 Hz: ticks at 0, 100, …, 900 ms
  assert.equal(Array.from(b.data["observation.state"]), Array.from({ length: 20 }, (_, i) => (i % 2 ? -0.25 : 0.5) * 2 * Math.floor(i / 2)));
  assert.equal(Array.from(b.data.action), Array.from({ length: 10 }, (_, k) => 0.125 * 2 * k));
});

test("scd dataset export --format ros2-bag: a rosbag2 directory (metadata.yaml + .mcap, ROS-legal topic names) that imports back to the same arrays", () => {
  const demos = path.join(tmp, "collected.scdd"), dir = path.join(tmp, "exported_bag"), back = path.join(tmp, "back.scdd");
  assert.is(scd(["collect", "reach-obstacle-v1", "--policy", "expert", "--episodes", "2", "--out", demos]).code, 0);
  const e = scd(["dataset", "export", demos, "--format", "ros2-bag", "--out", dir]);
  assert.is(e.code, 0, e.stderr);
  assert.equal(fs.readdirSync(dir).sort(), ["exported_bag_0.mcap", "metadata.yaml"]);
  const meta = fs.readFileSync(path.join(dir, "metadata.yaml"), "utf8");
  assert.match(meta, /storage_identifier: mcap/);
  assert.match(meta, /name: \/observation\/observation_state\n\s+type: std_msgs\/msg\/Float32MultiArray\n\s+serialization_format: cdr/);
  assert.not.match(meta, /[&*]a\d/, "no YAML anchors");
  const i = scd(["dataset", "import", dir, back]);
  assert.is(i.code, 0, i.stderr);
  const a = readDataset(demos).buffer, b = readDataset(back).buffer;
  assert.equal(Array.from(b.episodeEnds), Array.from(a.episodeEnds));
  for (const f of ["observation.state", "action"]) assert.equal(Array.from(b.data[f]), Array.from(a.data[f]), f);
});

test("bad bags are refused with one scd: error: line (truncated, unknown schema, a map naming a missing topic, sqlite3 storage)", async () => {
  const map = path.join(tmp, "all_map.json");
  const good = path.join(tmp, "all.mcap"), cut = path.join(tmp, "cut.mcap");
  fs.writeFileSync(cut, fs.readFileSync(good).subarray(0, Math.floor(fs.statSync(good).size / 2)));
  userError(["dataset", "import", cut, path.join(tmp, "x1.scdd"), "--map", map], /cut\.mcap: not a readable MCAP bag, truncated or corrupt/);
  // a ros2 bag whose mapped topic is protobuf-encoded
  const odd = path.join(tmp, "odd.mcap");
  const fh = await fs.promises.open(odd, "w");
  const w = new McapWriter({ writable: new FileHandleWritable(fh) });
  await w.start({ profile: "ros2", library: "test" });
  const sid = await w.registerSchema({ name: "foo.Bar", encoding: "protobuf", data: new Uint8Array([1, 2, 3]) });
  const cid = await w.registerChannel({ topic: "/js", schemaId: sid, messageEncoding: "protobuf", metadata: new Map() });
  for (const topic of ["/pt", "/pose", "/ps", "/tw", "/f32", "/f64", "/jt", "/cmd"]) await w.registerChannel({ topic, schemaId: sid, messageEncoding: "protobuf", metadata: new Map() });
  await w.addMessage({ channelId: cid, sequence: 1, logTime: 1n, publishTime: 1n, data: new Uint8Array([0]) });
  await w.end();
  await fh.close();
  userError(["dataset", "import", odd, path.join(tmp, "x2.scdd"), "--map", map], /odd\.mcap: topic \/js has schema "foo\.Bar" in encoding "protobuf" with "protobuf" messages; scd reads cdr messages with ros2msg schemas/);
  const missing = path.join(tmp, "missing_map.json");
  fs.writeFileSync(missing, JSON.stringify({ ...allTypesMap(), action: { ...ACTION, topic: "/robot/cmd" } }));
  userError(["dataset", "import", good, path.join(tmp, "x3.scdd"), "--map", missing], /missing_map\.json maps action to topic \/robot\/cmd, which is not in the bag; the bag's topics: \/js \(sensor_msgs\/msg\/JointState, 12 messages\)/);
  const sq = path.join(tmp, "sqlite_bag");
  fs.mkdirSync(sq);
  fs.writeFileSync(path.join(sq, "metadata.yaml"), "rosbag2_bagfile_information:\n  version: 5\n  storage_identifier: sqlite3\n  relative_file_paths:\n    - sqlite_bag_0.db3\n");
  userError(["dataset", "import", sq, path.join(tmp, "x4.scdd"), "--map", map], /metadata\.yaml: storage_identifier is "sqlite3"; scd reads MCAP bags/);
  userError(["dataset", "import", good, path.join(tmp, "x5.scdd")], /all\.mcap: a ROS bag needs a topic map to become a dataset \(--map map\.json/);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
