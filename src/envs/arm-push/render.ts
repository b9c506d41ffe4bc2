/**
 * A small projection rasteriser for MuJoCo scenes made of primitive geoms (MuJoCo's wasm module has no renderer):
 * a fixed pinhole camera, each geom projected and filled with flat Lambert shading (planes, boxes face by face,
 * spheres as discs, capsules and cylinders as thick strokes), far to near (painter's algorithm). Draws through
 * @napi-rs/canvas in Node (an OffscreenCanvas shim in browser bundles). Units: metres in, pixels out.
 */
import { createCanvas, type SKRSContext2D } from "@napi-rs/canvas";
import type { RgbFrame } from "../types.ts";
import type { MjModel, MjData } from "./mujoco.ts";
import { square } from "./task.ts";

type V3 = [number, number, number];
/** The camera: eye and look-at point (m, world), vertical field of view (rad); the light's direction (towards it). */
export const CAMERA = { eye: [1.05, -1.45, 1.0] as V3, at: [0.36, 0, 0.2] as V3, fov: 0.62 };
const LIGHT = norm([0.3, -0.5, 1]);
// MuJoCo's mjtGeom values
const PLANE = 0, SPHERE = 2, CAPSULE = 3, CYLINDER = 5, BOX = 6;

function norm(v: number[]): V3 {
  const n = Math.hypot(v[0], v[1], v[2]) || 1;
  return [v[0] / n, v[1] / n, v[2] / n];
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/** A pinhole camera: world point → [pixel x, pixel y, depth (m)]. */
export function camera(size: number, cam = CAMERA): (p: ArrayLike<number>) => V3 {
  const f = norm([cam.at[0] - cam.eye[0], cam.at[1] - cam.eye[1], cam.at[2] - cam.eye[2]]);
  const r = norm(cross(f, [0, 0, 1])), u = cross(r, f);
  const k = size / 2 / Math.tan(cam.fov / 2);
  return (p) => {
    const v = [p[0] - cam.eye[0], p[1] - cam.eye[1], p[2] - cam.eye[2]];
    const z = Math.max(1e-3, dot(v, f));
    return [size / 2 + (k * dot(v, r)) / z, size / 2 - (k * dot(v, u)) / z, z];
  };
}

const shade = (rgba: ArrayLike<number>, i: number, n: ArrayLike<number> | null, dim = 1) => {
  const l = (n ? 0.5 + 0.5 * Math.max(0, dot(n, LIGHT)) : 0.85) * dim;
  return `rgb(${[0, 1, 2].map((c) => Math.round(255 * Math.min(1, rgba[4 * i + c] * l))).join(",")})`;
};

function polygon(ctx: SKRSContext2D, pts: number[][], fill: string): void {
  ctx.fillStyle = fill;
  ctx.beginPath();
  pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.closePath();
  ctx.fill();
}

/** Draw the scene of (m, d): every visible geom, the target square, and the tip's target as a red cross. */
export function renderArmPush(m: MjModel, d: MjData, o: { target: readonly [number, number, number]; tipTarget: [number, number] | null; size: number }): RgbFrame {
  const size = o.size, proj = camera(size);
  const canvas = createCanvas(size, size), ctx = canvas.getContext("2d");
  ctx.fillStyle = "rgb(235,238,242)";
  ctx.fillRect(0, 0, size, size);
  const type = m.geom_type as Int32Array, gsize = m.geom_size as Float64Array, rgba = m.geom_rgba as Float32Array;
  const pos = d.geom_xpos as Float64Array, mat = d.geom_xmat as Float64Array;
  const at = (g: number, local: number[]): V3 => {
    const R = mat.subarray(9 * g, 9 * g + 9);
    return [0, 1, 2].map((r) => pos[3 * g + r] + R[3 * r] * local[0] + R[3 * r + 1] * local[1] + R[3 * r + 2] * local[2]) as V3;
  };
  const items: { depth: number; draw: () => void }[] = [];
  for (let g = 0; g < m.ngeom; g++) {
    if (rgba[4 * g + 3] === 0) continue;
    const s = gsize.subarray(3 * g, 3 * g + 3), t = type[g], c = proj(pos.subarray(3 * g, 3 * g + 3));
    if (t === PLANE) {
      const hx = s[0] || 1, hy = s[1] || 1;
      items.push({ depth: Infinity, draw: () => polygon(ctx, [[-hx, -hy, 0], [hx, -hy, 0], [hx, hy, 0], [-hx, hy, 0]].map((p) => proj(at(g, p))), shade(rgba, g, [0, 0, 1])) });
    } else if (t === BOX) {
      const corners = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => at(g, [k & 1 ? s[0] : -s[0], k & 2 ? s[1] : -s[1], k & 4 ? s[2] : -s[2]]));
      const faces = [[0, 2, 6, 4], [1, 3, 7, 5], [0, 1, 5, 4], [2, 3, 7, 6], [0, 1, 3, 2], [4, 5, 7, 6]];
      items.push({
        depth: c[2],
        draw: () => {
          for (const [i, face] of faces.entries()) {
            const n = norm(at(g, [i === 0 ? -1 : i === 1 ? 1 : 0, i === 2 ? -1 : i === 3 ? 1 : 0, i === 4 ? -1 : i === 5 ? 1 : 0]).map((v, k) => v - pos[3 * g + k]));
            const fc = [0, 1, 2].map((k) => face.reduce((a, i) => a + corners[i][k] / 4, 0));
            if (dot(n, [CAMERA.eye[0] - fc[0], CAMERA.eye[1] - fc[1], CAMERA.eye[2] - fc[2]]) > 0) polygon(ctx, face.map((k) => proj(corners[k])), shade(rgba, g, n));
          }
        },
      });
    } else if (t === SPHERE) {
      items.push({ depth: c[2], draw: () => {
        const r = (s[0] * size) / 2 / Math.tan(CAMERA.fov / 2) / c[2];
        for (const [dim, rr] of [[0.6, r + 0.75], [1, r]]) {
          ctx.fillStyle = shade(rgba, g, null, dim);
          ctx.beginPath();
          ctx.arc(c[0], c[1], rr, 0, 2 * Math.PI);
          ctx.fill();
        }
      } });
    } else if (t === CAPSULE || t === CYLINDER) {
      const a = proj(at(g, [0, 0, -s[1]])), b = proj(at(g, [0, 0, s[1]]));
      items.push({ depth: c[2] + (t === CYLINDER ? 0 : -1e-4), draw: () => {
        const w = (2 * s[0] * size) / 2 / Math.tan(CAMERA.fov / 2) / c[2];
        ctx.lineCap = t === CAPSULE ? "round" : "butt";
        for (const [dim, ww] of [[0.6, w + 1.5], [1, w]]) { // a darker rim, then the body
          ctx.strokeStyle = shade(rgba, g, null, dim);
          ctx.lineWidth = ww;
          ctx.beginPath();
          ctx.moveTo(a[0], a[1]);
          ctx.lineTo(b[0], b[1]);
          ctx.stroke();
        }
      } });
    }
  }
  items.sort((p, q) => q.depth - p.depth);
  const planes = items.filter((it) => it.depth === Infinity);
  for (const it of planes) it.draw(); // the table
  // on the table: the target square (light green), then the tip's target
  polygon(ctx, square(o.target[0], o.target[1], o.target[2]).map(([x, y]) => proj([x, y, 0.001])), "rgb(144,238,144)");
  if (o.tipTarget) {
    const [x, y] = proj([o.tipTarget[0], o.tipTarget[1], 0.001]), k = Math.max(3, size / 64);
    ctx.strokeStyle = "rgb(230,30,30)";
    ctx.lineWidth = Math.max(1, size / 256);
    ctx.beginPath();
    ctx.moveTo(x - k, y);
    ctx.lineTo(x + k, y);
    ctx.moveTo(x, y - k);
    ctx.lineTo(x, y + k);
    ctx.stroke();
  }
  for (const it of items.slice(planes.length)) it.draw();
  const px = ctx.getImageData(0, 0, size, size).data, rgb = new Uint8ClampedArray(size * size * 3);
  for (let i = 0, j = 0; i < px.length; i += 4, j += 3) (rgb[j] = px[i]), (rgb[j + 1] = px[i + 1]), (rgb[j + 2] = px[i + 2]);
  return { width: size, height: size, data: rgb };
}
