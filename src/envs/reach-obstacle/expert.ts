/**
 * The scripted expert: picks a side (50/50) per episode, follows waypoints around the obstacle on that side with
 * small Gaussian noise. A ChunkPolicy with H = 1.
 */
import type { ChunkPolicy, Frame } from "../../policies/types.ts";
import { Rng } from "../../util/rng.ts";
import { GOAL } from "./reach.ts";

export class ReachExpert implements ChunkPolicy {
  readonly name = "expert";
  readonly horizon = 1;
  readonly actionDim = 2;
  private rng = new Rng(0);
  side: -1 | 1 = 1;
  private wp = 0;
  private pos: [number, number] = [0, 0];
  constructor(readonly noise = 0.1) {}

  reset(seed = 0): void {
    this.rng = new Rng(seed * 7919 + 1);
    this.side = this.rng.next() < 0.5 ? -1 : 1;
    this.wp = 0;
  }

  private waypoints(): [number, number][] {
    return [[0.55 * this.side, -0.25], [0.55 * this.side, 0.3], GOAL];
  }

  observe(frame: Frame): void {
    const s = frame.obs["observation.state"];
    this.pos = [s[0], s[1]];
  }

  sampleChunk(): Float32Array {
    const wps = this.waypoints();
    while (this.wp < wps.length - 1 && Math.hypot(wps[this.wp][0] - this.pos[0], wps[this.wp][1] - this.pos[1]) < 0.1) this.wp++;
    const [tx, ty] = wps[this.wp];
    const dx = tx - this.pos[0], dy = ty - this.pos[1], d = Math.hypot(dx, dy);
    const g = Math.min(1, d / 0.06) / Math.max(d, 1e-9); // full speed until close, then slow down
    return Float32Array.from([dx * g + this.rng.normal() * this.noise, dy * g + this.rng.normal() * this.noise].map((v) => Math.max(-1, Math.min(1, v))));
  }
}
