/**
 * The arm-push task: where the block starts, where it must go, and how well it got there. Pure functions, no
 * MuJoCo. Lengths in metres on the table plane (world x forward from the robot's base, y to its left), yaw in
 * radians about world z. The block is a cube, so its yaw matters modulo a quarter turn.
 */
import { Rng } from "../../util/rng.ts";
import { BLOCK_HALF } from "./panda.ts";

/** The target pose [x, y, yaw]: in front of the robot, closer to it than where the block starts. */
export const TARGET: readonly [number, number, number] = [0.42, 0, 0];
/** Where the pusher's tip starts (x, y), inside the target square, so every episode must go around the block. */
export const TIP_START: readonly [number, number] = [0.4, 0];
/** The tip's fixed height above the table (m): the tip sphere's centre at the block's mid-height. */
export const TIP_Z = BLOCK_HALF;
/** The block's start region: x, y ranges (m); its yaw is uniform over a quarter turn. */
export const START_X: readonly [number, number] = [0.52, 0.62];
export const START_Y: readonly [number, number] = [-0.15, 0.15];
/** The action space: tip targets (x, y) on the table, the reachable rectangle with the tool pointing down (m). */
export const WORKSPACE_LOW = [0.3, -0.3];
export const WORKSPACE_HIGH = [0.7, 0.3];
/** Success: the block's corners are on average within this distance (m) of the target square's corners. */
export const SUCCESS_DISTANCE = 0.01;
/** The reward falls linearly from 1 at SUCCESS_DISTANCE to 0 at this mean corner distance (m). */
export const REWARD_DISTANCE = 0.2;

/** Yaw folded to (-π/4, π/4]: the cube looks the same every quarter turn. */
export function foldYaw(yaw: number): number {
  const q = Math.PI / 2;
  let a = yaw - q * Math.round(yaw / q);
  if (a <= -q / 2) a += q;
  return a;
}

/** Yaw (rad) about z of a unit quaternion [w, x, y, z]. */
export function quatYaw(w: number, x: number, y: number, z: number): number {
  return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

/** A seeded reset draw: the block's [x, y, yaw] (m, m, rad), uniform over the start region. */
export function drawBlockPose(rng: Rng): [number, number, number] {
  const u = (r: readonly [number, number]) => r[0] + rng.next() * (r[1] - r[0]);
  return [u(START_X), u(START_Y), (rng.next() - 0.5) * (Math.PI / 2)];
}

type P = [number, number];
/** The four corners of a square of half-size h at (x, y) turned by yaw, counter-clockwise. */
export function square(x: number, y: number, yaw: number, h = BLOCK_HALF): P[] {
  const c = Math.cos(yaw), s = Math.sin(yaw);
  return ([[-h, -h], [h, -h], [h, h], [-h, h]] as P[]).map(([u, v]) => [x + c * u - s * v, y + s * u + c * v]);
}

function area(p: P[]): number {
  let a = 0;
  for (let i = 0; i < p.length; i++) a += p[i][0] * p[(i + 1) % p.length][1] - p[(i + 1) % p.length][0] * p[i][1];
  return Math.abs(a) / 2;
}

/** Sutherland–Hodgman clipping of a polygon by a counter-clockwise convex polygon: their intersection. */
function clip(subject: P[], by: P[]): P[] {
  let out = subject;
  for (let i = 0; i < by.length && out.length; i++) {
    const [ax, ay] = by[i], [bx, by_] = by[(i + 1) % by.length];
    const side = (p: P) => (bx - ax) * (p[1] - ay) - (by_ - ay) * (p[0] - ax);
    const inp = out;
    out = [];
    for (let j = 0; j < inp.length; j++) {
      const p = inp[j], q = inp[(j + 1) % inp.length], sp = side(p), sq = side(q);
      if (sp >= 0) out.push(p);
      if (sp >= 0 !== sq >= 0) {
        const t = sp / (sp - sq);
        out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
      }
    }
  }
  return out;
}

/** Fraction of the target square the block's footprint covers (0–1): exact, by convex clipping. */
export function coverage(x: number, y: number, yaw: number, target: readonly [number, number, number] = TARGET): number {
  const t = square(target[0], target[1], target[2]);
  return area(clip(square(x, y, yaw), t)) / area(t);
}

/**
 * Mean distance (m) between the block's corners and the target square's, each corner matched to its counterpart
 * (the yaw error folded to a quarter turn): one number for position and yaw together. A yaw error φ alone moves
 * the corners by 2·√2·h·sin(φ/2), so 1 cm is 13.5° alone, or 1 cm of position alone.
 */
export function cornerDistance(x: number, y: number, yaw: number, target: readonly [number, number, number] = TARGET): number {
  const b = square(x, y, target[2] + foldYaw(yaw - target[2])), t = square(target[0], target[1], target[2]);
  return b.reduce((s, p, i) => s + Math.hypot(p[0] - t[i][0], p[1] - t[i][1]), 0) / 4;
}

/** The reward (0–1) at a mean corner distance d (m): 1 within SUCCESS_DISTANCE, 0 beyond REWARD_DISTANCE. */
export function rewardAt(d: number): number {
  return Math.min(1, Math.max(0, (REWARD_DISTANCE - d) / (REWARD_DISTANCE - SUCCESS_DISTANCE)));
}

/** Position error (m) and folded yaw error (rad, 0–π/4) of a block pose from the target. */
export function poseError(x: number, y: number, yaw: number, target: readonly [number, number, number] = TARGET): { position: number; yaw: number } {
  return { position: Math.hypot(x - target[0], y - target[1]), yaw: Math.abs(foldYaw(yaw - target[2])) };
}
