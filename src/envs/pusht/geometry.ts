/** Push-T geometry: the T's two convex parts, pose transforms, and exact coverage by convex clipping. */
export type Vec = [number, number];
export type Poly = Vec[];

/** The T in body-local pixels (origin = middle of the bar's bottom edge); the two parts do not overlap. */
export const T_PARTS: Poly[] = [
  [[-60, 30], [60, 30], [60, 0], [-60, 0]], // bar 120 x 30
  [[-15, 30], [-15, 120], [15, 120], [15, 30]], // stem 30 x 90
];
export const T_AREA = 120 * 30 + 30 * 90; // 6300
export const GOAL_POSE: [number, number, number] = [256, 256, Math.PI / 4];

/** Local -> world for a body whose ORIGIN is at (x, y) rotated by a. */
export function transform(poly: Poly, x: number, y: number, a: number): Poly {
  const c = Math.cos(a), s = Math.sin(a);
  return poly.map(([px, py]) => [x + c * px - s * py, y + s * px + c * py]);
}

export function polyArea(p: Poly): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const [x1, y1] = p[i], [x2, y2] = p[(i + 1) % p.length];
    s += x1 * y2 - x2 * y1;
  }
  return Math.abs(s) / 2;
}

/** Sutherland–Hodgman: the intersection of a polygon with a convex clip polygon (exact for convex inputs). */
export function clipConvex(subject: Poly, clip: Poly): Poly {
  // orientation of the clip polygon decides which side is inside
  let signedArea = 0;
  for (let i = 0; i < clip.length; i++) signedArea += clip[i][0] * clip[(i + 1) % clip.length][1] - clip[(i + 1) % clip.length][0] * clip[i][1];
  const sgn = signedArea >= 0 ? 1 : -1;
  let out = subject;
  for (let i = 0; i < clip.length && out.length; i++) {
    const [ax, ay] = clip[i], [bx, by] = clip[(i + 1) % clip.length];
    const side = (p: Vec) => sgn * ((bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax));
    const input = out;
    out = [];
    for (let j = 0; j < input.length; j++) {
      const p = input[j], q = input[(j + 1) % input.length];
      const sp = side(p), sq = side(q);
      if (sp >= 0) out.push(p);
      if ((sp >= 0) !== (sq >= 0)) {
        const t = sp / (sp - sq);
        out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
      }
    }
  }
  return out;
}

/** Area of (block T at pose) ∩ (goal T) / area(goal T): exact, as the two T's are unions of disjoint convex parts. */
export function coverage(x: number, y: number, a: number, goal = GOAL_POSE): number {
  let inter = 0;
  for (const p of T_PARTS) {
    const bp = transform(p, x, y, a);
    for (const g of T_PARTS) inter += polyArea(clipConvex(bp, transform(g, goal[0], goal[1], goal[2])));
  }
  return inter / T_AREA;
}
