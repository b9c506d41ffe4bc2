/**
 * Robustness 7: a bridge that accepts each connection and closes it 5 ms later must see the reconnect backoff
 * grow to its cap (no reconnect storm); a connection that stays up resets it. Real WebSockets, real roslib.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WebSocketServer } from "ws";
import { RosConnector } from "../src/ros/connector.ts";
import { parseTopicMap } from "../src/ros/topic-map.ts";

const MAP = parseTopicMap({
  observations: [{ feature: "observation.state", topic: "/robot/state", type: "geometry_msgs/Point", fields: ["x", "y"] }],
  action: { topic: "/robot/cmd", type: "geometry_msgs/Twist", fields: ["linear.x", "linear.y"], low: [-1, -1], high: [1, 1] },
}, "test map");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a flapping bridge: connections back off to the cap (was ~9 per second forever); a stable one resets it", async () => {
  let flapping = true;
  const opened: number[] = [];
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  wss.on("connection", (ws) => {
    opened.push(performance.now());
    if (flapping) setTimeout(() => ws.close(), 5);
  });
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  const conn = new RosConnector(url, MAP, { minBackoffMs: 20, maxBackoffMs: 320 });
  await conn.start();
  await sleep(2000);
  // reconnects at ~0, 25, 70, 155, 320, 645, 970, 1295, 1620, 1945 ms: ≤ 11, where a reset-on-open backoff makes ~80
  assert.ok(opened.length >= 6 && opened.length <= 11, `${opened.length} connections in 2 s`);
  assert.is(conn.backoffMs, 320, "the backoff reached its cap");
  const gaps = opened.slice(1).map((t, i) => t - opened[i]);
  assert.ok(gaps.at(-1)! >= 300, `the last gap is ${gaps.at(-1)!.toFixed(0)} ms`);
  flapping = false; // the bridge recovers: a connection that stays up for maxBackoffMs resets the backoff
  await sleep(1200);
  assert.ok(conn.connected$.value, "connected again");
  assert.is(conn.backoffMs, 20, "a stable connection resets the backoff");
  conn.close();
  await new Promise((r) => wss.close(r));
});

test.run();
