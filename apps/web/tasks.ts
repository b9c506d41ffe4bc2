/** Per-env pieces of the page: coordinates ↔ canvas pixels, the predicted chunk as a path, pointer → action. */
import type { Obs } from "../../src/envs/types.ts";
import type { PointerToAction } from "../../src/web/pointer-policy.ts";
import { MAX_SPEED } from "../../src/envs/reach-obstacle/reach.ts";

export interface Task {
  envId: string;
  /** env coordinates → canvas pixels on a square canvas of `size` px, and back */
  toPx(p: ArrayLike<number>, size: number): [number, number];
  fromPx(x: number, y: number, size: number): [number, number];
  /** The chunk [H·A] as points in env coordinates, from the observation it was planned on. */
  path(obs: Obs | null, chunk: Float32Array, actionDim: number): [number, number][];
  pointerAction: PointerToAction;
}

const clamp1 = (v: number) => Math.max(-1, Math.min(1, v));

/** Push-T's arena: 512 world pixels, y down; the same for pusht-image-v1 (the camera frame is an observation, not the view). */
const PUSHT: Task = {
  envId: "pusht-v1",
  toPx: (p, s) => [(p[0] * s) / 512, (p[1] * s) / 512],
  fromPx: (x, y, s) => [(x * 512) / s, (y * 512) / s],
  // actions are the agent's target positions: the chunk is the path itself
  path: (_obs, c, a) => Array.from({ length: c.length / a }, (_, i) => [c[i * a], c[i * a + 1]] as [number, number]),
  pointerAction: (p, obs) => Float32Array.from(p ?? obs["observation.agent_pos"]),
};

export const TASKS: Record<string, Task> = {
  "pusht-v1": PUSHT,
  "pusht-image-v1": { ...PUSHT, envId: "pusht-image-v1" },
  "reach-obstacle-v1": {
    envId: "reach-obstacle-v1",
    toPx: (p, s) => [((p[0] + 1) / 2) * s, ((1 - p[1]) / 2) * s],
    fromPx: (x, y, s) => [(x / s) * 2 - 1, 1 - (y / s) * 2],
    // actions are velocities: integrate them from the current position
    path: (obs, c, a) => {
      const st = obs?.["observation.state"];
      if (!st) return [];
      let x = st[0], y = st[1];
      const pts: [number, number][] = [[x, y]];
      for (let i = 0; i < c.length / a; i++) pts.push([(x += clamp1(c[i * a]) * MAX_SPEED), (y += clamp1(c[i * a + 1]) * MAX_SPEED)]);
      return pts;
    },
    pointerAction: (p, obs) => {
      const st = obs["observation.state"];
      return p ? Float32Array.from([clamp1((p[0] - st[0]) / MAX_SPEED), clamp1((p[1] - st[1]) / MAX_SPEED)]) : new Float32Array(2);
    },
  },
};
