/**
 * Push-T's 96 × 96 image observation as Diffusion Policy recorded it (`data/img` of pusht_cchi_v7_replay.zarr),
 * pixel for pixel: the same integer rasterisation of the scene on a 512 × 512 canvas, then the same fixed-point
 * bilinear shrink. Our own code, reproducing (read from the public sources, none copied):
 * - diffusion_policy/env/pusht/pusht_env.py `_render_frame`: white 512-px canvas (window_size = the world, y down);
 *   goal T (pose 256, 256, π/4) filled LightGreen (144, 238, 144) first; then pymunk's `space.debug_draw` with
 *   pusht/pymunk_override.py's DrawOptions. Chipmunk draws the dynamic shapes in hash-set order (ids 4 agent,
 *   5 bar, 6 stem in 5 bins: bar, stem, agent), the static walls, then each contact of the last physics step:
 *   polygon (T part, LightSlateGray 119, 136, 153) = fill in light_color round(min(1.2·c, 255)) = (143, 163, 184),
 *   then each edge (Chipmunk's hull order: min-x vertex first, positive winding) as a fat segment of radius 2;
 *   fat segment (also the walls: LightGray 211, radius 2, (5, 5)…(506, 506)) = 4-px `pygame.draw.lines`, a quad
 *   offset by round(2·(|dy|, |dx|)/len) (both abs(), as the original: skewed for one slope sign), radius-2 end discs;
 *   agent circle (RoyalBlue 65, 105, 225, radius 15) = disc r 15, then r 11 in light (78, 126, 255);
 *   contact (pymunk's collision_point_color 231, 76, 60) = `pygame.draw.aalines` from p1 − 2n to p2 + 2n. Contacts
 *   are block–agent (circle vs polygon) and block–wall (segment vs polygon; kinematic–static pairs are dropped),
 *   computed from the state as cpCollision.c does: closest points (GJK) or least penetration (EPA), clipped edge
 *   pairs for a wall (ContactPoints). Every point goes through `to_pygame`: Python's round(), half to even.
 * - pygame 2.1 src_c/draw.c: `draw_fillpoly` (scanline, C-truncated intersections, inclusive spans), `clip_line`
 *   and `draw_line_width` (Bresenham, −1…+2 across), `draw_circle_filled` (covers x0−r … x0+r−1), `draw_aaline`
 *   (float32 Wu line blended over the canvas, channels truncated).
 * - `cv2.resize(img, (96, 96))`, INTER_LINEAR: source x = (dx + ½)·512/96 − ½ in float32, weights rounded to
 *   1/2048, integer horizontal sums, SIMD vertical pass ((S0≫4)·b0≫16 + (S1≫4)·b1≫16 + 2)≫2. No area averaging.
 * - No action marker: the image env renders with render_action=False; the recordings hold no red cross.
 */
import { ScdError } from "../../errors.ts";
import { GOAL_POSE, T_PARTS, type Vec } from "./geometry.ts";
import { AGENT_RADIUS, WALLS, WALL_RADIUS } from "./physics.ts";

/** The canvas Diffusion Policy draws on before resizing (window_size), in world pixels. */
export const WINDOW_SIZE = 512;
/** Base palette (RGB) by index; 0 is the white floor. Blended contact pixels are appended per frame. */
export const PIXEL_COLORS: readonly (readonly [number, number, number])[] = [
  [255, 255, 255], [144, 238, 144], // floor: canvas.fill((255, 255, 255)); goal: pygame.Color('LightGreen')
  [143, 163, 184], [119, 136, 153], // block fill: light_color(LightSlateGray); block edges: LightSlateGray
  [65, 105, 225], [78, 126, 255], // agent rim: RoyalBlue; inside (radius − 4): light_color(RoyalBlue), 255-clipped
  [211, 211, 211], // walls: LightGray
];
const [GOAL, BLOCK_FILL, BLOCK_EDGE, AGENT, AGENT_LIGHT, WALL] = [1, 2, 3, 4, 5, 6];
const CONTACT: readonly [number, number, number] = [231, 76, 60]; // pymunk SpaceDebugDrawOptions.collision_point_color
const [N, EDGE_RADIUS, f32] = [WINDOW_SIZE, 2, Math.fround]; // pymunk_override draw_polygon: radius 2 whatever the shape's

/** Python's round() and cvRound: half to even. */
const roundEven = (v: number) => (Math.round(v) - v === 0.5 && Math.round(v) % 2 !== 0 ? Math.round(v) - 1 : Math.round(v));
const dot = (a: Vec, b: Vec) => a[0] * b[0] + a[1] * b[1];
const sub = (a: Vec, b: Vec): Vec => [a[0] - b[0], a[1] - b[1]];
const add = (a: Vec, b: Vec, k = 1): Vec => [a[0] + k * b[0], a[1] + k * b[1]];
const unit = (v: Vec): Vec => [v[0] / Math.hypot(...v), v[1] / Math.hypot(...v)];
const outward = (a: Vec, b: Vec): Vec => unit([b[1] - a[1], a[0] - b[0]]); // cpvrperp: outward for the hull's winding

/** Chipmunk's hull order: start at the lowest x (then y), positive shoelace winding. */
function hullOrder(poly: Vec[]): Vec[] {
  let s = 0, area = 0;
  poly.forEach((p, i) => {
    if (p[0] < poly[s][0] || (p[0] === poly[s][0] && p[1] < poly[s][1])) s = i;
    area += p[0] * poly[(i + 1) % poly.length][1] - poly[(i + 1) % poly.length][0] * p[1];
  });
  const out = poly.map((_, i) => poly[(s + i) % poly.length]);
  return area > 0 ? out : [out[0], ...out.slice(1).reverse()];
}
const HULL_PARTS: Vec[][] = T_PARTS.map(hullOrder);
/** The polygon's points as both callers pass them: to_pygame-rounded, the first repeated at the end. */
const toPygame = (verts: Vec[]): Vec[] => [...verts, verts[0]].map((v) => v.map(roundEven) as Vec);

/** A 512 × 512 canvas of palette indices with pygame's primitives (clipped per pixel). */
class Canvas {
  readonly px = new Uint16Array(N * N);
  readonly palette: (readonly [number, number, number])[] = [...PIXEL_COLORS];
  hline(x1: number, x2: number, y: number, c: number): void {
    const a = Math.max(Math.min(x1, x2), 0), b = Math.min(Math.max(x1, x2), N - 1);
    if (y >= 0 && y < N && a <= b) this.px.fill(c, y * N + a, y * N + b + 1);
  }
  /** draw_fillpoly: integer scanline fill, then the horizontal edges strictly between the extreme rows. */
  fillPoly(pts: Vec[], c: number): void {
    const n = pts.length, ys = pts.map((p) => p[1]), miny = Math.min(...ys), maxy = Math.max(...ys);
    if (miny === maxy) return this.hline(Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0])), miny, c);
    for (let y = miny, xs: number[] = []; y <= maxy; y++, xs = []) {
      for (let i = 0; i < n; i++) {
        const p = pts[i ? i - 1 : n - 1], q = pts[i];
        if (p[1] === q[1]) continue;
        const [[x1, y1], [x2, y2]] = p[1] < q[1] ? [p, q] : [q, p];
        if ((y >= y1 && y < y2) || (y === maxy && y2 === maxy)) xs.push(Math.trunc(((y - y1) * (x2 - x1)) / (y2 - y1)) + x1);
      }
      xs.sort((a, b) => a - b);
      for (let i = 0; i + 1 < xs.length; i += 2) this.hline(xs[i], xs[i + 1], y, c);
    }
    for (let i = 0; i < n; i++) {
      const p = pts[i ? i - 1 : n - 1], y = pts[i][1];
      if (miny < y && p[1] === y && y < maxy) this.hline(pts[i][0], p[0], y, c);
    }
  }
  /** draw_circle_filled: pygame 2's midpoint circle, spans x0−x … x0+x−1. */
  disc(x0: number, y0: number, r: number, c: number): void {
    for (let f = 1 - r, ddx = 0, ddy = -2 * r, x = 0, y = r; x < y; ) {
      if (f >= 0) (y--, (ddy += 2), (f += ddy));
      (x++), (ddx += 2), (f += ddx + 1);
      if (f >= 0) (this.hline(x0 - x, x0 + x - 1, y0 + y - 1, c), this.hline(x0 - x, x0 + x - 1, y0 - y, c));
      this.hline(x0 - y, x0 + y - 1, y0 + x - 1, c);
      this.hline(x0 - y, x0 + y - 1, y0 - x, c);
    }
  }
  /** draw_line_width (width ≥ 2): clip_line, Bresenham with a span across each point, then on to the canvas edge. */
  thickLine(x1: number, y1: number, x2: number, y2: number, width: number, c: number): void {
    const [endX, endY, xinc] = [x2, y2, Math.abs(x1 - x2) <= Math.abs(y1 - y2)];
    const dx = Math.abs(x2 - x1), sx = x1 < x2 ? 1 : -1, dy = Math.abs(y2 - y1), sy = y1 < y2 ? 1 : -1;
    let err = Math.trunc((dx > dy ? dx : -dy) / 2);
    const clipped = clipLine(x1, y1, x2, y2);
    if (!clipped) return;
    [x1, y1, x2, y2] = clipped;
    let lo = (xinc ? x1 : y1) - Math.trunc((width - 1) / 2), hi = (xinc ? x1 : y1) + Math.trunc(width / 2);
    const inside = (x: number, y: number) => x >= 0 && x < N && y >= 0 && y < N, sign = (v: number, d: number) => (v > 0 ? 1 : v < 0 ? -1 : d);
    const span = () => (xinc ? this.hline(lo, hi, y1, c) : Array.from({ length: hi - lo + 1 }, (_, k) => inside(x1, lo + k) && (this.px[(lo + k) * N + x1] = c)));
    const step = (e2 = err) => {
      if (e2 > -dx) (err -= dy), (x1 += sx), xinc && ((lo += sx), (hi += sx));
      if (e2 < dy) (err += dx), (y1 += sy), xinc || ((lo += sy), (hi += sy));
    };
    while (sign(x1 - x2, sx) !== sx || sign(y1 - y2, sy) !== sy) span(), step();
    while (xinc ? y1 !== endY && (inside(lo, y1) || inside(hi, y1)) : x1 !== endX && (inside(x1, lo) || inside(x1, hi))) span(), step();
    span();
  }
  /** pymunk_override draw_fat_segment: lines of width round(2r), the (abs-skewed) quad, a disc at each end. */
  fatSegment(a: Vec, b: Vec, radius: number, c: number): void {
    const [x1, y1, x2, y2] = [a[0], a[1], b[0], b[1]].map(roundEven), w = roundEven(Math.max(1, radius * 2));
    this.thickLine(x1, y1, x2, y2, w, c);
    let [ox, oy] = [Math.abs(y2 - y1), Math.abs(x2 - x1)];
    if (w <= 2 || (ox === 0 && oy === 0)) return;
    const k = radius / Math.sqrt(ox * ox + oy * oy);
    [ox, oy] = [roundEven(ox * k), roundEven(oy * k)];
    this.fillPoly([[x1 - ox, y1 - oy], [x1 + ox, y1 + oy], [x2 + ox, y2 + oy], [x2 - ox, y2 - oy]], c);
    this.disc(x1, y1, roundEven(radius), c), this.disc(x2, y2, roundEven(radius), c);
  }
  /** pymunk_override draw_polygon: light fill, then each edge as a fat segment of radius 2 in the base colour. */
  shapePolygon(verts: Vec[], fill: number, edge: number): void {
    this.fillPoly(toPygame(verts), fill);
    verts.forEach((v, i) => this.fatSegment(v, verts[(i + 1) % verts.length], EDGE_RADIUS, edge));
  }
  /** get_antialiased_color with blend: float32 mix over the current pixel, truncated to bytes. */
  blend(x: number, y: number, col: readonly number[], b: number): void {
    if (x < 0 || x >= N || y < 0 || y >= N) return;
    const bg = this.palette[this.px[y * N + x]], nb = f32(1 - b);
    const rgb = [0, 1, 2].map((k) => Math.trunc(f32(f32(b * col[k]) + f32(nb * bg[k])))) as [number, number, number];
    const i = this.palette.findIndex((p) => p[0] === rgb[0] && p[1] === rgb[1] && p[2] === rgb[2]);
    this.px[y * N + x] = i < 0 ? this.palette.push(rgb) - 1 : i;
  }
  /** draw_aaline (blend = 1) in float32, clipped one pixel beyond the canvas as pygame does. */
  aaline(fx: number, fy: number, tx: number, ty: number, col: readonly number[]): void {
    let dx = f32(tx - fx), dy = f32(ty - fy);
    if (Math.abs(dx) < 0.0001 && Math.abs(dy) < 0.0001) return this.blend(Math.floor(fx + 0.5), Math.floor(fy + 0.5), col, 1);
    const steep = Math.abs(dx) < Math.abs(dy), [lo, hi] = [-1, N]; // the clip box is square: no swap needed
    if (steep) [fx, fy, tx, ty, dx, dy] = [fy, fx, ty, tx, dy, dx];
    if (dx < 0) [fx, fy, tx, ty, dx, dy] = [tx, ty, fx, fy, -dx, -dy];
    if (tx <= lo || fx >= hi) return;
    const g = f32(dy / dx), put = (u: number, v: number, b: number) => (steep ? this.blend(v, u, col, b) : this.blend(u, v, col, b));
    if (fx < lo) (fy = f32(fy + f32(g * f32(lo - fx)))), (fx = lo);
    if (tx > hi) (ty = f32(ty + f32(g * f32(hi - tx)))), (tx = hi);
    const [top, bot] = g > 0 ? [fy, ty] : [ty, fy], moveX = (x: number, y: number, to: number) => f32(x + f32(f32(to - y) / g));
    if (bot <= lo || top >= hi) return;
    if (g > 0 && fy < lo) (fx = moveX(fx, fy, lo)), (fy = lo);
    if (g > 0 && ty > hi) (tx = moveX(tx, ty, hi)), (ty = hi);
    if (g <= 0 && ty < lo) (tx = moveX(tx, ty, lo)), (ty = lo);
    if (g <= 0 && fy > hi) (fx = moveX(fx, fy, hi)), (fy = hi);
    [fy, ty] = [f32(fy + 1), f32(ty + 1)]; // one row down, so (int) rounds down; drawn one row up
    let xs = Math.trunc(fx), iy = f32(fy + f32(g * f32(xs - fx)));
    const end = (xp: number, ye: number, gap: number) => {
      const b = f32(ye - Math.trunc(ye));
      if (Math.trunc(ye) < ye) put(xp, Math.trunc(ye), f32(b * gap));
      put(xp, Math.trunc(ye) - 1, f32(f32(1 - b) * gap));
    };
    if (tx > lo + 1) (end(xs, iy, f32(f32(1 + xs) - fx)), (iy = f32(iy + g)), xs++);
    const xe = Math.ceil(tx);
    if (fx < hi - 1) end(xe, f32(ty + f32(g * f32(xe - tx))), f32(f32(1 - xe) + tx));
    for (let x = xs; x < xe; x++, iy = f32(iy + g)) {
      const y = Math.trunc(iy), b = f32(f32(1 - iy) + y);
      put(x, y - 1, b);
      if (y < iy) put(x, y, f32(1 - b));
    }
  }
}

type Contact = { p1: Vec; p2: Vec; n: Vec };

/** pygame's clip_line: Liang–Barsky on the canvas (right/bottom bound N), rounding half away from zero. */
function clipLine(x1: number, y1: number, x2: number, y2: number): [number, number, number, number] | null {
  const p = [x1 - x2, x2 - x1, y1 - y2, y2 - y1], q = [x1, N - x1, y1, N - y1];
  if (p.some((pk, k) => pk === 0 && q[k] < 0)) return null;
  let nmax = 0, pmin = 1;
  for (const k of [0, 2]) if (p[k]) {
    const [r1, r2] = [q[k] / p[k], q[k + 1] / p[k + 1]];
    [nmax, pmin] = p[k] < 0 ? [Math.max(nmax, r1), Math.min(pmin, r2)] : [Math.max(nmax, r2), Math.min(pmin, r1)];
  } // prettier-ignore
  const rnd = (v: number) => Math.trunc(v < 0 ? v - 0.5 : v + 0.5);
  return nmax > pmin ? null : [x1 + rnd(p[1] * nmax), y1 + rnd(p[3] * nmax), x1 + rnd(p[1] * pmin), y1 + rnd(p[3] * pmin)];
}

/** CircleToPoly: GJK's closest points (EPA's nearest edge when the centre is inside); a contact when d ≤ r. */
function circlePoly(c: Vec, r: number, poly: Vec[]): Contact | null {
  let inside = true, bestS = -Infinity, bestN: Vec = [0, 0], near: Vec = c, nearD = Infinity;
  poly.forEach((a, i) => {
    const b = poly[(i + 1) % poly.length], on = outward(a, b), s = dot(sub(c, a), on), e = sub(b, a);
    if (s > 0) inside = false;
    if (s > bestS) (bestS = s), (bestN = on);
    const q = add(a, e, Math.min(1, Math.max(0, dot(sub(c, a), e) / dot(e, e))));
    if (Math.hypot(...sub(q, c)) < nearD) (nearD = Math.hypot(...sub(q, c))), (near = q);
  });
  const [d, n, p2]: [number, Vec, Vec] = inside ? [bestS, [-bestN[0], -bestN[1]], add(c, bestN, -bestS)] : [nearD, unit(sub(near, c)), near];
  return d <= r ? { p1: add(c, n, r), p2, n } : null;
}

/** SegmentToPoly (segment a→b of radius r with Chipmunk's normal rperp(b − a)): separating axis, then ContactPoints. */
function segmentPoly(a: Vec, b: Vec, r: number, poly: Vec[]): Contact[] {
  const tn = outward(a, b), seg = [a, b], k = poly.length, edges = poly.map((u, i) => [u, poly[(i + 1) % k]]);
  const closest = (p: Vec, u: Vec, v: Vec) => add(u, sub(v, u), Math.min(1, Math.max(0, dot(sub(p, u), sub(v, u)) / dot(sub(v, u), sub(v, u)))));
  const side = (o: Vec, p: Vec, q: Vec) => Math.sign((p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0]));
  // GJK, apart: the closest pair (polygon vertex to segment, or segment end to polygon edge)
  let d = Infinity, n: Vec = tn;
  const pair = (p: Vec, q: Vec) => Math.hypot(...sub(q, p)) < d && ((d = Math.hypot(...sub(q, p))), (n = unit(sub(q, p))));
  for (const v of poly) pair(closest(v, a, b), v);
  for (const [u, v] of edges) for (const p of seg) pair(p, closest(p, u, v));
  if (d === 0 || edges.some(([u, v]) => side(a, b, u) * side(a, b, v) < 0 && side(u, v, a) * side(u, v, b) < 0)) {
    // EPA, overlapping: the axis along which the polygon leaves the segment soonest
    d = -Infinity;
    for (const u of [tn, ...edges.map(([p, q]) => outward(p, q))].flatMap((u): Vec[] => [u, [-u[0], -u[1]]])) {
      const sep = Math.min(...poly.map((v) => dot(v, u))) - Math.max(...seg.map((p) => dot(p, u)));
      if (sep > d) (d = sep), (n = u);
    }
  }
  if (d > r) return [];
  // SupportEdgeForSegment(seg, n) and SupportEdgeForPoly(poly, −n)
  const [e1a, e1b] = dot(tn, n) > 0 ? [a, b] : [b, a], m: Vec = [-n[0], -n[1]];
  let i1 = 0;
  poly.forEach((v, i) => dot(v, m) > dot(poly[i1], m) && (i1 = i));
  const i0 = (i1 - 1 + k) % k, i2 = (i1 + 1) % k;
  const [e2a, e2b] = dot(m, outward(poly[i0], poly[i1])) > dot(m, outward(poly[i1], poly[i2])) ? [poly[i0], poly[i1]] : [poly[i1], poly[i2]];
  const cr = (v: Vec) => v[0] * n[1] - v[1] * n[0], cl = (t: number) => Math.min(1, Math.max(0, t));
  const [d1a, d1b, d2a, d2b] = [e1a, e1b, e2a, e2b].map(cr), den1 = 1 / (d1b - d1a + 2.2250738585072014e-308), den2 = 1 / (d2b - d2a + 2.2250738585072014e-308);
  return [[(d2b - d1a) * den1, (d1a - d2a) * den2], [(d2a - d1a) * den1, (d1b - d2a) * den2]].flatMap(([t1, t2]) => {
    const p1 = add(add(e1a, sub(e1b, e1a), cl(t1)), n, r), p2 = add(e2a, sub(e2b, e2a), cl(t2));
    return dot(sub(p2, p1), n) <= 0 ? [{ p1, p2, n }] : [];
  });
}

/** Body-local polygon → world: rotate about the body origin, then translate (Chipmunk's body transform). */
const place = (poly: Vec[], x: number, y: number, a: number): Vec[] => poly.map(([px, py]) => [x + Math.cos(a) * px - Math.sin(a) * py, y + Math.sin(a) * px + Math.cos(a) * py]);

/** The 512 × 512 frame of `state` as pusht_env.py's `_render_frame` draws it: palette indices and the palette. */
export function rasterPushT(state: ArrayLike<number>): { px: Uint16Array; palette: readonly (readonly [number, number, number])[] } {
  if (state.length !== 5 || !Array.from(state).every(Number.isFinite))
    throw new ScdError(`renderPushTObservation: state must be 5 finite numbers [agent x, agent y, block x, block y, angle], got [${Array.from(state)}]`);
  const cv = new Canvas();
  for (const part of HULL_PARTS) cv.fillPoly(toPygame(place(part, ...GOAL_POSE)), GOAL);
  const block = HULL_PARTS.map((part) => place(part, state[2], state[3], state[4]));
  for (const part of block) cv.shapePolygon(part, BLOCK_FILL, BLOCK_EDGE);
  const agent: Vec = [state[0], state[1]], [ax, ay] = agent.map(roundEven);
  cv.disc(ax, ay, AGENT_RADIUS, AGENT);
  cv.disc(ax, ay, AGENT_RADIUS - 4, AGENT_LIGHT);
  for (const [a, b] of WALLS) cv.fatSegment(a, b, WALL_RADIUS, WALL);
  const contacts = block.flatMap((part) => [circlePoly(agent, AGENT_RADIUS, part) ?? [], ...WALLS.map(([a, b]) => segmentPoly(a, b, WALL_RADIUS, part))].flat());
  for (const { p1, p2, n } of contacts) cv.aaline(...(add(p1, n, -2).map(roundEven) as Vec), ...(add(p2, n, 2).map(roundEven) as Vec), CONTACT);
  return { px: cv.px, palette: cv.palette };
}

/** cv2.resize INTER_LINEAR tables for one axis: first source index and its two weights (sum 2048). */
function linearTable(src: number, dst: number): { ofs: Int32Array; w0: Int32Array; w1: Int32Array } {
  const scale = 1 / (dst / src), ofs = new Int32Array(dst), w0 = new Int32Array(dst), w1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let s = Math.floor(f32((d + 0.5) * scale - 0.5)), f = f32(f32((d + 0.5) * scale - 0.5) - s);
    if (s < 0) (f = 0), (s = 0);
    if (s >= src - 1) (f = 0), (s = src - 1);
    [ofs[d], w0[d], w1[d]] = [s, roundEven(f32(1 - f) * 2048), roundEven(f * 2048)];
  }
  return { ofs, w0, w1 };
}

/**
 * Render Push-T's image observation at `state` = [agent x, agent y, block x, block y, block angle]: world pixels of
 * the 512-px arena (y down), angle in radians, block origin at the middle of the bar's bottom edge (data/state).
 * @returns size × size × 3 bytes, row-major HWC RGB (uint8), as `data/img` of Diffusion Policy's Push-T store.
 * @throws ScdError when the state is not 5 finite numbers or size is not a positive integer.
 */
export function renderPushTObservation(state: ArrayLike<number>, size = 96): Uint8Array {
  if (!Number.isInteger(size) || size < 1) throw new ScdError(`renderPushTObservation: size must be a positive integer, got ${size}`);
  const { px, palette } = rasterPushT(state), t = linearTable(N, size), out = new Uint8Array(size * size * 3);
  const rows = new Map<number, Int32Array>(); // the horizontal pass, for the source rows the vertical pass reads
  const hrow = (sy: number): Int32Array => {
    let r = rows.get(sy);
    if (r) return r;
    rows.set(sy, (r = new Int32Array(size * 3)));
    for (let dx = 0; dx < size; dx++) {
      const c0 = palette[px[sy * N + t.ofs[dx]]], c1 = palette[px[sy * N + Math.min(t.ofs[dx] + 1, N - 1)]];
      for (let k = 0; k < 3; k++) r[dx * 3 + k] = c0[k] * t.w0[dx] + c1[k] * t.w1[dx];
    }
    return r;
  };
  for (let dy = 0; dy < size; dy++) {
    const s0 = hrow(t.ofs[dy]), s1 = hrow(Math.min(t.ofs[dy] + 1, N - 1)), b0 = t.w0[dy], b1 = t.w1[dy];
    for (let i = 0, o = dy * size * 3; i < size * 3; i++) out[o + i] = Math.min(255, Math.max(0, ((((s0[i] >> 4) * b0) >> 16) + (((s1[i] >> 4) * b1) >> 16) + 2) >> 2));
  }
  return out;
}
