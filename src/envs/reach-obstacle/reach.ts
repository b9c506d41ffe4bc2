/**
 * reach-obstacle-v1: a multimodal task. A point agent starts below a round obstacle and must reach a goal above
 * it, going around on the left or the right. Demonstrations take either side, so a unimodal regressor that
 * averages them drives straight into the obstacle (where the agent is blocked) and fails.
 */
import { createCanvas } from "@napi-rs/canvas";
import { ScdError } from "../../errors.ts";
import { type Env, type Obs, type Info, type StepResult, type RgbFrame, type Box, box } from "../types.ts";
import { Rng } from "../../util/rng.ts";

export const START: [number, number] = [0, -0.8];
export const GOAL: [number, number] = [0, 0.8];
export const OBSTACLE = { x: 0, y: 0, r: 0.35 };
export const GOAL_RADIUS = 0.1;
export const MAX_SPEED = 0.06; // per step, at |action| = 1

export class ReachObstacleEnv implements Env {
  readonly id = "reach-obstacle-v1";
  readonly metadata = { controlHz: 10, fallback: "zero" as const };
  readonly actionSpace: Box = box([2], -1, 1, ["vx", "vy"]);
  readonly observationSpace: Record<string, Box> = { "observation.state": box([2], -1, 1, ["x", "y"]) };
  private p: [number, number] = [...START];
  private trail: [number, number][] = [];
  /** The env's own generator (Gymnasium): reset({seed}) re-seeds it, reset() continues it. */
  private rng: Rng | null = null;

  reset(opts: { seed?: number; options?: Record<string, unknown> } = {}): { obs: Obs; info: Info } {
    if (opts.seed !== undefined) this.rng = new Rng(opts.seed);
    else this.rng ??= new Rng(Math.floor(Math.random() * 2 ** 31)); // never seeded: from entropy, as Gymnasium
    const rng = this.rng;
    this.p = [START[0] + (rng.next() - 0.5) * 0.2, START[1] + (rng.next() - 0.5) * 0.1];
    this.trail = [[...this.p]];
    return { obs: this.observe(), info: this.info() };
  }

  step(action: ArrayLike<number>): StepResult {
    if (action.length !== 2) throw new ScdError(`reach-obstacle-v1: action must have 2 values (vx, vy), got ${action.length}`);
    if (!Number.isFinite(action[0]) || !Number.isFinite(action[1])) throw new ScdError(`reach-obstacle-v1: action [${action[0]}, ${action[1]}] is not finite`);
    const vx = Math.max(-1, Math.min(1, action[0])), vy = Math.max(-1, Math.min(1, action[1]));
    let x = this.p[0] + vx * MAX_SPEED, y = this.p[1] + vy * MAX_SPEED;
    // the obstacle blocks: project back onto its boundary
    const dx = x - OBSTACLE.x, dy = y - OBSTACLE.y, d = Math.hypot(dx, dy);
    if (d < OBSTACLE.r) {
      const s = d > 1e-9 ? OBSTACLE.r / d : 0;
      [x, y] = d > 1e-9 ? [OBSTACLE.x + dx * s, OBSTACLE.y + dy * s] : [OBSTACLE.x, OBSTACLE.y - OBSTACLE.r];
    }
    this.p = [Math.max(-1, Math.min(1, x)), Math.max(-1, Math.min(1, y))];
    this.trail.push([...this.p]);
    const info = this.info();
    return { obs: this.observe(), reward: info.isSuccess ? 1 : 0, terminated: !!info.isSuccess, truncated: false, info };
  }

  private info(): Info {
    const dist = Math.hypot(this.p[0] - GOAL[0], this.p[1] - GOAL[1]);
    // the side of the obstacle the agent went around (passing it means being beside it, |x| > r, at its height)
    const beside = this.trail.filter(([x, y]) => Math.abs(y - OBSTACLE.y) < OBSTACLE.r && Math.abs(x - OBSTACLE.x) > OBSTACLE.r * 0.8);
    const side = beside.length ? (beside[0][0] < 0 ? "left" : "right") : "none";
    return { isSuccess: dist < GOAL_RADIUS, distance: dist, side };
  }

  private observe(): Obs {
    return { "observation.state": Float32Array.from(this.p) };
  }

  get position(): [number, number] {
    return [...this.p];
  }

  render(size = 256): RgbFrame {
    const c = createCanvas(size, size), ctx = c.getContext("2d");
    const px = (x: number) => ((x + 1) / 2) * size, py = (y: number) => ((1 - y) / 2) * size;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, size, size);
    ctx.fillStyle = "rgb(144,238,144)";
    ctx.beginPath();
    ctx.arc(px(GOAL[0]), py(GOAL[1]), (GOAL_RADIUS * size) / 2, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = "rgb(119,136,153)";
    ctx.beginPath();
    ctx.arc(px(OBSTACLE.x), py(OBSTACLE.y), (OBSTACLE.r * size) / 2, 0, 2 * Math.PI);
    ctx.fill();
    ctx.strokeStyle = "rgb(200,80,80)";
    ctx.beginPath();
    this.trail.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
    ctx.stroke();
    ctx.fillStyle = "rgb(65,105,225)";
    ctx.beginPath();
    ctx.arc(px(this.p[0]), py(this.p[1]), size / 40, 0, 2 * Math.PI);
    ctx.fill();
    const rgba = ctx.getImageData(0, 0, size, size).data, rgb = new Uint8ClampedArray(size * size * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) [rgb[j], rgb[j + 1], rgb[j + 2]] = [rgba[i], rgba[i + 1], rgba[i + 2]];
    return { width: size, height: size, data: rgb };
  }

  close(): void {}
}
