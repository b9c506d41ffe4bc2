/**
 * A simulated robot on the in-process bus: the reaching task behind the topics of examples/ros/reach_map.json
 * (/robot/cmd Twist in, /robot/state Point out, /robot/reset Trigger). For `scd run --test-server` and tests.
 */
import type { TopicBus } from "./backends/bus.ts";
import { ReachObstacleEnv } from "../../envs/reach-obstacle/reach.ts";

export interface SimRobot {
  readonly success: boolean;
  readonly received: { t: number; x: number; y: number }[];
  stop(): void;
}

export function startSimRobot(bus: TopicBus, periodMs: number, seed = 0): SimRobot {
  const env = new ReachObstacleEnv();
  env.reset({ seed });
  let cmd: [number, number] = [0, 0];
  let lastCmd = performance.now();
  const received: SimRobot["received"] = [];
  let success = false;
  bus.subscribe("/robot/cmd", undefined, (m) => {
    const msg = m as { linear?: { x?: number; y?: number } };
    cmd = [Number(msg.linear?.x ?? 0), Number(msg.linear?.y ?? 0)];
    lastCmd = performance.now();
    received.push({ t: lastCmd, x: cmd[0], y: cmd[1] });
  });
  bus.advertiseService("/robot/reset", () => {
    env.reset({ seed });
    success = false;
    return { success: true, message: "reset" };
  });
  const timer = setInterval(() => {
    // a robot's own watchdog: no command for 0.5 s means stop
    const c: [number, number] = performance.now() - lastCmd < 500 ? cmd : [0, 0];
    if (!success) success = !!env.step(c).info.isSuccess;
    const [x, y] = env.position;
    bus.publish("/robot/state", "geometry_msgs/Point", { x, y, z: 0 });
  }, periodMs);
  return { get success() { return success; }, received, stop: () => clearInterval(timer) };
}
