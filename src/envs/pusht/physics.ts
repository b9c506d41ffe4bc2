/**
 * A small rigid-body solver that follows Chipmunk2D's step for exactly Push-T's contact set (see
 * ../shared/specs/pusht.md): a kinematic circle agent, one dynamic T block of two convex polygons, four static
 * wall segments. Per step, as Chipmunk: integrate positions (velocity + bias velocity), detect contacts, pre-step
 * (bias from penetration with slop), damp velocities (damping 0 -> zero), then 10 sequential-impulse iterations
 * on the normal constraint (frictionless, inelastic). The block therefore carries one substep of contact-resolved
 * velocity into the next substep, which is the quasi-static behaviour the human data shows.
 */
import { T_PARTS, type Poly, type Vec } from "./geometry.ts";

export const AGENT_RADIUS = 15;
export const BLOCK_MASS = 1;
export const BLOCK_MOMENT = 3000; // the original adds the bar's moment twice: keep it
export const BLOCK_COG: Vec = [0, 45]; // mean of the two parts' centroids, not area-weighted
export const WALLS: [Vec, Vec][] = [[[5, 506], [5, 5]], [[5, 5], [506, 5]], [[506, 5], [506, 506]], [[5, 506], [506, 506]]];
export const WALL_RADIUS = 2;
const ITERATIONS = 10;
const SLOP = 0.1;
const COLLISION_BIAS = Math.pow(1 - 0.1, 60);

export interface World {
  agent: { x: number; y: number; vx: number; vy: number };
  /** Block: position of its CENTRE OF GRAVITY (Chipmunk's body.p), angle, velocities. */
  block: { cx: number; cy: number; a: number; vx: number; vy: number; w: number; bvx: number; bvy: number; bw: number };
}

interface Contact {
  nx: number; ny: number; // from shape a (agent or wall) into the block
  r2x: number; r2y: number; // contact point on the block, relative to the block's CoG
  aIsAgent: boolean;
  dist: number; // signed separation (negative = penetration)
  nMass: number;
  bias: number;
  jn: number;
  jb: number;
}

export function newWorld(): World {
  return { agent: { x: 256, y: 400, vx: 0, vy: 0 }, block: { cx: 256, cy: 345, a: 0, vx: 0, vy: 0, w: 0, bvx: 0, bvy: 0, bw: 0 } };
}

/** Body origin (what observations report) from the CoG pose. */
export function blockOrigin(w: World): [number, number] {
  const c = Math.cos(w.block.a), s = Math.sin(w.block.a);
  return [w.block.cx - (c * BLOCK_COG[0] - s * BLOCK_COG[1]), w.block.cy - (s * BLOCK_COG[0] + c * BLOCK_COG[1])];
}

/** Chipmunk's body.position setter: the origin goes to (x, y) at the CURRENT angle. */
export function setBlockPosition(w: World, x: number, y: number): void {
  const c = Math.cos(w.block.a), s = Math.sin(w.block.a);
  w.block.cx = x + c * BLOCK_COG[0] - s * BLOCK_COG[1];
  w.block.cy = y + s * BLOCK_COG[0] + c * BLOCK_COG[1];
}

/** Chipmunk's body.angle setter: rotates about the centre of gravity (so the origin moves). */
export function setBlockAngle(w: World, a: number): void {
  w.block.a = a;
}

/** World-space vertices of the block's parts. */
export function blockParts(w: World): Poly[] {
  const [ox, oy] = blockOrigin(w);
  const c = Math.cos(w.block.a), s = Math.sin(w.block.a);
  return T_PARTS.map((p) => p.map(([px, py]) => [ox + c * px - s * py, oy + s * px + c * py] as Vec));
}

/** Closest point on a convex polygon's boundary to p, and whether p is inside (with the min-penetration edge). */
function circlePolyContact(cx: number, cy: number, r: number, poly: Poly): { px: number; py: number; nx: number; ny: number; dist: number } | null {
  let inside = true;
  let bestOut = Infinity, bqx = 0, bqy = 0;
  let bestIn = -Infinity, inNx = 0, inNy = 0;
  const n = poly.length;
  // winding sign so that edge normals point outward
  let area = 0;
  for (let i = 0; i < n; i++) area += poly[i][0] * poly[(i + 1) % n][1] - poly[(i + 1) % n][0] * poly[i][1];
  const sgn = area > 0 ? 1 : -1;
  for (let i = 0; i < n; i++) {
    const [ax, ay] = poly[i], [bx, by] = poly[(i + 1) % n];
    const ex = bx - ax, ey = by - ay, len = Math.hypot(ex, ey);
    const onx = (sgn * ey) / len, ony = (-sgn * ex) / len; // outward normal
    const sd = (cx - ax) * onx + (cy - ay) * ony;
    if (sd > 0) inside = false;
    if (sd > bestIn) [bestIn, inNx, inNy] = [sd, onx, ony];
    const t = Math.max(0, Math.min(1, ((cx - ax) * ex + (cy - ay) * ey) / (len * len)));
    const qx = ax + t * ex, qy = ay + t * ey;
    const d = Math.hypot(cx - qx, cy - qy);
    if (d < bestOut) [bestOut, bqx, bqy] = [d, qx, qy];
  }
  if (inside) {
    // deepest case: push out along the edge of least penetration; normal from circle into polygon
    return { px: cx - inNx * bestIn, py: cy - inNy * bestIn, nx: -inNx, ny: -inNy, dist: bestIn - r };
  }
  if (bestOut >= r || bestOut === 0) return null;
  return { px: bqx, py: bqy, nx: (bqx - cx) / bestOut, ny: (bqy - cy) / bestOut, dist: bestOut - r };
}

function collide(w: World): Contact[] {
  const contacts: Contact[] = [];
  const b = w.block, ag = w.agent;
  const add = (px: number, py: number, nx: number, ny: number, dist: number, aIsAgent: boolean) => {
    const r2x = px - b.cx, r2y = py - b.cy;
    const rn2 = r2x * ny - r2y * nx;
    const k = 1 / BLOCK_MASS + (rn2 * rn2) / BLOCK_MOMENT; // the agent and the walls have infinite mass
    contacts.push({ nx, ny, r2x, r2y, aIsAgent, dist, nMass: 1 / k, bias: 0, jn: 0, jb: 0 });
  };
  for (const part of blockParts(w)) {
    const c = circlePolyContact(ag.x, ag.y, AGENT_RADIUS, part);
    // contact point on the block's surface (Chipmunk's p2); the bias uses the penetration depth
    if (c) add(c.px, c.py, c.nx, c.ny, c.dist, true);
    for (const [[sx, sy], [ex, ey]] of WALLS) {
      const dx = ex - sx, dy = ey - sy, l2 = dx * dx + dy * dy;
      for (const [vx, vy] of part) {
        const t = Math.max(0, Math.min(1, ((vx - sx) * dx + (vy - sy) * dy) / l2));
        const qx = sx + t * dx, qy = sy + t * dy;
        const d = Math.hypot(vx - qx, vy - qy);
        if (d < WALL_RADIUS && d > 0) add(vx, vy, (vx - qx) / d, (vy - qy) / d, d - WALL_RADIUS, false);
      }
    }
  }
  return contacts;
}

/** One physics step of dt seconds (Chipmunk's cpSpaceStep order). */
export function stepWorld(w: World, dt: number): void {
  const b = w.block, ag = w.agent;
  // 1. integrate positions with velocity + bias velocity; bias velocity is then reset
  ag.x += ag.vx * dt;
  ag.y += ag.vy * dt;
  b.cx += (b.vx + b.bvx) * dt;
  b.cy += (b.vy + b.bvy) * dt;
  b.a += (b.w + b.bw) * dt;
  b.bvx = b.bvy = b.bw = 0;
  // 2. contacts at the new positions; 3. pre-step: penetration bias
  const contacts = collide(w);
  const biasCoef = 1 - Math.pow(COLLISION_BIAS, dt);
  for (const c of contacts) c.bias = (-biasCoef * Math.min(0, c.dist + SLOP)) / dt;
  // 4. damping 0: the block loses all velocity every step (the quasi-static quirk)
  b.vx = b.vy = b.w = 0;
  // 5. sequential impulses on the normal constraint (frictionless, elasticity 0)
  for (let it = 0; it < ITERATIONS; it++) {
    for (const c of contacts) {
      const avx = c.aIsAgent ? ag.vx : 0, avy = c.aIsAgent ? ag.vy : 0;
      // bias velocity (position correction), solved separately so it never adds momentum
      const vbn = (b.bvx - b.bw * c.r2y) * c.nx + (b.bvy + b.bw * c.r2x) * c.ny;
      const jbOld = c.jb;
      c.jb = Math.max(jbOld + (c.bias - vbn) * c.nMass, 0);
      applyImpulse(b, c, c.jb - jbOld, true);
      // velocity: relative normal velocity of the block w.r.t. the agent/wall at the contact
      const vrn = (b.vx - b.w * c.r2y - avx) * c.nx + (b.vy + b.w * c.r2x - avy) * c.ny;
      const jnOld = c.jn;
      c.jn = Math.max(jnOld - vrn * c.nMass, 0);
      applyImpulse(b, c, c.jn - jnOld, false);
    }
  }
}

function applyImpulse(b: World["block"], c: Contact, j: number, bias: boolean): void {
  const jx = c.nx * j, jy = c.ny * j;
  const dw = (c.r2x * jy - c.r2y * jx) / BLOCK_MOMENT;
  if (bias) {
    b.bvx += jx / BLOCK_MASS;
    b.bvy += jy / BLOCK_MASS;
    b.bw += dw;
  } else {
    b.vx += jx / BLOCK_MASS;
    b.vy += jy / BLOCK_MASS;
    b.w += dw;
  }
}
