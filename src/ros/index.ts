/**
 * scd-policy/ros: the ROS connector (roslib) and its test server. A separate subpath so that users who never
 * touch ROS never load roslib.
 *
 *   import { RosConnector, loadTopicMap, runOverRos } from "scd-policy/ros";
 *   const conn = new RosConnector("ws://127.0.0.1:9090", loadTopicMap("map.json"));
 *   await conn.start();
 *   const run = runOverRos(policy, conn, { periodMs: 100, strategy: { kind: "receding", execute: 8 }, fallback: "zero" });
 *   // … run.stop() publishes one final safe action
 *
 * ROS 2: a map whose types are spelled `pkg/msg/Name` speaks ROS 2 layouts (docs/ros.md, "ROS 2");
 * `new RosbridgeServer(bus, { ros: 2 })` plays rosbridge for ROS 2.
 *
 * @module scd-policy/ros
 */
export { RosConnector, type ConnectorStats, type ConnectorOptions, type TimedAction } from "./connector.ts";
export { parseTopicMap, loadTopicMap, TopicMapSchema, QosSchema, mapRosVersion, rosVersionOf, SUPPORTED_TYPE_NAMES, checkMapAgainstEnv, featureLayout, mapExtensions, type TopicMap, type FeaturePart } from "./topic-map.ts";
export { DemoRecorder, type RecordStats } from "./record.ts";
export { decodeFields, encodeAction, type CodecField } from "./codec.ts";
export { runOverRos, type RosRun } from "./run.ts";
export { RosbridgeServer, type BridgeBackend } from "./bridge-server.ts";
export { TopicBus } from "./backends/bus.ts";
export { Ros1Backend } from "./backends/ros1.ts";
