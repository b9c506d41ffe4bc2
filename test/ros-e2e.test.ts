/**
 * End to end with real ROS 1: a Debian rosmaster, a rospy robot node (/usr/bin/python3), the rosbridge test
 * server with the ROS 1 back end, and the real roslib client — the expert drives the robot to the goal.
 * Skips with a message where ROS 1 is not installed (.ci/run installs it).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import { RosbridgeServer } from "../src/ros/bridge-server.ts";
import { Ros1Backend } from "../src/ros/backends/ros1.ts";
import { RosConnector } from "../src/ros/connector.ts";
import { loadTopicMap } from "../src/ros/topic-map.ts";
import { runOverRos } from "../src/ros/run.ts";
import { ReachExpert } from "../src/envs/reach-obstacle/expert.ts";
import { ROOT, scd } from "./helpers.ts";

const HAVE_ROS = fs.existsSync("/usr/bin/rosmaster") && fs.existsSync("/usr/lib/python3/dist-packages/rospy");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

function rosEnv(port: number): NodeJS.ProcessEnv {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "scd-ros-"));
  return { ...process.env, ROS_MASTER_URI: `http://127.0.0.1:${port}`, ROS_IP: "127.0.0.1", ROS_HOME: home, ROS_LOG_DIR: home, PYTHONUNBUFFERED: "1" };
}

async function waitFor(proc: ChildProcess, pattern: RegExp, ms: number, what: string): Promise<void> {
  let buf = "";
  await new Promise<void>((res, rej) => {
    const to = setTimeout(() => rej(new Error(`${what} did not print ${pattern} within ${ms} ms: ${buf.slice(-500)}`)), ms);
    const on = (d: Buffer) => {
      buf += d.toString();
      if (pattern.test(buf)) (clearTimeout(to), res());
    };
    proc.stdout?.on("data", on);
    proc.stderr?.on("data", on);
  });
}

test("expert → roslib → rosbridge test server → rosmaster → rospy robot and back: the task succeeds", async () => {
  if (!HAVE_ROS) {
    console.log("  skipped: ROS 1 (rosmaster, rospy) is not installed; .ci/run installs it from Debian");
    return;
  }
  const port = await freePort();
  const env = rosEnv(port);
  const master = spawn("/usr/bin/rosmaster", ["--core", "-p", String(port)], { env, stdio: "pipe" });
  let robot: ChildProcess | null = null;
  let server: RosbridgeServer | null = null;
  try {
    await sleep(1500);
    robot = spawn("/usr/bin/python3", [path.join(ROOT, "examples/ros/reach_robot.py")], { env, stdio: "pipe" });
    await waitFor(robot, /READY/, 15000, "robot node");
    const backend = new Ros1Backend(env.ROS_MASTER_URI!);
    await backend.start();
    server = new RosbridgeServer(backend);
    await server.start();
    const conn = new RosConnector(server.url, loadTopicMap(path.join(ROOT, "examples/ros/reach_map.json")));
    await conn.start();
    const success = waitFor(robot, /SUCCESS \d+/, 30000, "robot node");
    const run = runOverRos(new ReachExpert(0.05), conn, { periodMs: 100, strategy: { kind: "receding", execute: 1 }, fallback: "zero" });
    await success;
    run.stop();
    const acts = run.events.filter((e) => e.type === "action");
    assert.ok(acts.length >= 20, `${acts.length} actions`);
    assert.ok(conn.stats.received >= 20 && conn.stats.published >= 20, JSON.stringify(conn.stats));
    assert.is(conn.stats.malformed, 0);
    conn.close();
  } finally {
    await server?.close();
    robot?.kill("SIGINT");
    master.kill("SIGINT");
    await sleep(300);
  }
});

test("scd run against the bus-backed test server: live metrics, clean stop with a final safe action", async () => {
  // the CLI's --test-server starts an in-process rosbridge server with a simulated robot (for demos and this test)
  const r = scd(["run", "--policy", "expert", "--env", "reach-obstacle-v1", "--test-server", "--map", path.join(ROOT, "examples/ros/reach_map.json"), "--duration", "6"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /robot reached the goal/);
  assert.match(r.stdout, /final safe action published/);
});

test.run();
