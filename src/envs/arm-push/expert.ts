/**
 * The scripted arm-push expert (a ChunkPolicy with H = 1, tip targets in metres). Each step it re-plans from the
 * observation: it pushes along the block's face normal nearest to the way from the block to the target; the tip
 * must be behind that face to push, its contact point shifted sideways in proportion to the yaw error so that the
 * push also turns the block. When the tip is not behind the block it circles round it at a safe radius;
 * the first time, the way round (clockwise or counter-clockwise) is a seeded coin flip, so the demonstrations take
 * both sides and the data is multimodal. Every tip target is clamped to the env's workspace.
 */
import type { ChunkPolicy, Frame } from "../../policies/types.ts";
import { Rng } from "../../util/rng.ts";
import { BLOCK_HALF, TIP_RADIUS } from "./panda.ts";
import { TARGET, WORKSPACE_LOW, WORKSPACE_HIGH, foldYaw } from "./task.ts";

/** Radius (m) of the circle the tip follows round the block: clear of its corners by 2 cm. */
export const CIRCLE_RADIUS = BLOCK_HALF * Math.SQRT2 + TIP_RADIUS + 0.02;
/** Sideways contact offset per radian of yaw error (m/rad), and its bound (m). */
const K_TURN = 0.06, MAX_OFFSET = 0.02;
/** Largest angle (rad) the tip advances round the circle per step. */
const MAX_ARC = 0.5;
/** How far ahead of the contact point the tip is sent while pushing (m): the pushing speed. */
const LOOK_AHEAD = 0.03;

const wrap = (a: number) => Math.atan2(Math.sin(a), Math.cos(a));

export class ArmPushExpert implements ChunkPolicy {
  readonly name = "expert";
  readonly horizon = 1;
  readonly actionDim = 2;
  /** The way round the block the first time: +1 counter-clockwise, −1 clockwise (seeded per episode). */
  side: 1 | -1 = 1;
  private firstTurn = true;
  private pushing = false;
  /** The block face pushed (quarter turns from the block's x axis), kept between steps. */
  private face: number | null = null;
  private rng = new Rng(0);
  private s: Float32Array = new Float32Array(14);

  /** @param noise standard deviation (m) of the Gaussian noise added to each tip target. */
  constructor(readonly noise = 0.002) {}

  reset(seed = 0): void {
    this.rng = new Rng(seed * 7919 + 17);
    this.side = this.rng.next() < 0.5 ? 1 : -1;
    this.firstTurn = true;
    this.pushing = false;
    this.face = null;
  }

  observe(frame: Frame): void {
    this.s = frame.obs["observation.state"];
  }

  sampleChunk(): Float32Array {
    const [tx, ty] = this.plan();
    const clamp = (v: number, i: number) => Math.min(WORKSPACE_HIGH[i], Math.max(WORKSPACE_LOW[i], v));
    return Float32Array.from([clamp(tx + this.rng.normal() * this.noise, 0), clamp(ty + this.rng.normal() * this.noise, 1)]);
  }

  /** The next tip target (x, y) before noise. */
  private plan(): [number, number] {
    const s = this.s, px = s[7], py = s[8], bx = s[10], by = s[11];
    const yaw = Math.atan2(s[13], s[12]) / 4;
    const ex = TARGET[0] - bx, ey = TARGET[1] - by, dist = Math.hypot(ex, ey);
    const yawErr = foldYaw(TARGET[2] - yaw);
    // push along the face normal closest to the way to the target (a point push off the normal slides and turns
    // the block unpredictably); keep the face while it stays within 55° of that way
    const toward = Math.atan2(ey, ex);
    if (this.face === null || dist < 0.004 || Math.cos(wrap(toward - (yaw + this.face * Math.PI / 2))) < Math.cos((55 * Math.PI) / 180))
      this.face = Math.round(wrap(toward - yaw) / (Math.PI / 2));
    const w = yaw + this.face * (Math.PI / 2), ux = Math.cos(w), uy = Math.sin(w);
    const tx = -uy, ty = ux; // u turned by +90°
    const depth = BLOCK_HALF;
    // the sideways offset of the contact point that turns the block towards the target yaw (torque = −offset · force)
    const off = Math.max(-MAX_OFFSET, Math.min(MAX_OFFSET, -K_TURN * yawErr));
    const cx = bx - ux * depth + tx * off, cy = by - uy * depth + ty * off; // contact point
    // where the tip is relative to the block: behind it (along −u) and in line with the contact point?
    const vx = px - bx, vy = py - by;
    const back = -(vx * ux + vy * uy), lateral = vx * tx + vy * ty - off;
    const inLine = Math.abs(lateral) < 0.6 * BLOCK_HALF && back > depth - 0.005;
    this.pushing = this.pushing ? inLine : inLine && back < depth + TIP_RADIUS + 0.02;
    if (this.pushing) {
      this.firstTurn = false;
      const ahead = Math.min(LOOK_AHEAD, Math.max(dist, 0.01));
      return [cx - ux * TIP_RADIUS + ux * ahead, cy - uy * TIP_RADIUS + uy * ahead];
    }
    // not in place: go round the block on the circle to the angle behind it, then in towards the contact point
    const r = Math.hypot(vx, vy), a = Math.atan2(vy, vx), goal = Math.atan2(-uy + ty * off / CIRCLE_RADIUS, -ux + tx * off / CIRCLE_RADIUS);
    let da = wrap(goal - a);
    if (this.firstTurn && Math.abs(da) > 0.3) da = this.side > 0 ? (da < 0 ? da + 2 * Math.PI : da) : da > 0 ? da - 2 * Math.PI : da;
    if (Math.abs(da) < 0.15 && r > CIRCLE_RADIUS - 0.015) {
      // behind the block: come in along u to just behind the contact point
      return [cx - ux * (TIP_RADIUS + 0.005), cy - uy * (TIP_RADIUS + 0.005)];
    }
    if (r < CIRCLE_RADIUS - 0.01) return [bx + (vx / Math.max(r, 1e-6)) * CIRCLE_RADIUS, by + (vy / Math.max(r, 1e-6)) * CIRCLE_RADIUS];
    const next = a + Math.sign(da) * Math.min(Math.abs(da), MAX_ARC);
    return [bx + Math.cos(next) * CIRCLE_RADIUS, by + Math.sin(next) * CIRCLE_RADIUS];
  }
}
