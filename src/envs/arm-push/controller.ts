/**
 * The end-effector controller: one damped-least-squares inverse-kinematics step per MuJoCo substep (resolved-rate
 * control), from the current joint positions to a joint position target for the arm's position servos. The task
 * is 6-D: the tip's position (to the target, the step clipped to MAX_STEP) and the flange's orientation (held at
 * the ready pose's: the tool straight down); the seventh joint's redundancy (the elbow) is pulled towards the ready
 * pose in the Jacobian's null space. Pure arithmetic on arrays read from MuJoCo, so it is tested without it.
 */
import { QD_MAX } from "./panda.ts";

/** Largest tip position step per substep (m): with the servos' kp / kv = 10 /s, about 0.3 m/s at most. */
export const MAX_STEP = 0.03;
/** Damping of the least-squares solve (Nakamura & Hanafusa 1986; Wampler 1986): stays finite near singularities. */
export const LAMBDA = 0.05;
/** Gain of the null-space pull towards the ready pose (per substep). */
export const K_NULL = 0.05;
/** Servo stiffness over damping (1/s), KP / KV in panda.ts: a joint step dq settles at about 10·dq rad/s. */
const SERVO_RATE = 10;
/** Largest joint step per substep (rad): Franka's velocity limits over the servo rate. */
export const JOINT_STEP = QD_MAX.map((v) => v / SERVO_RATE);

/** What one IK step reads: joint positions [7], joint anchors and axes [7·3] (world), tip [3], tip frame [9] (row-major). */
export interface ArmKinematics {
  q: ArrayLike<number>;
  anchors: ArrayLike<number>;
  axes: ArrayLike<number>;
  tip: ArrayLike<number>;
  rot: ArrayLike<number>;
}

/** The 6×7 geometric Jacobian of the tip (rows: linear x, y, z, then angular x, y, z), row-major, from the hinge axes. */
export function jacobian(k: ArmKinematics, out = new Float64Array(42)): Float64Array {
  for (let j = 0; j < 7; j++) {
    const ax = k.axes[3 * j], ay = k.axes[3 * j + 1], az = k.axes[3 * j + 2];
    const rx = k.tip[0] - k.anchors[3 * j], ry = k.tip[1] - k.anchors[3 * j + 1], rz = k.tip[2] - k.anchors[3 * j + 2];
    out[j] = ay * rz - az * ry;
    out[7 + j] = az * rx - ax * rz;
    out[14 + j] = ax * ry - ay * rx;
    out[21 + j] = ax;
    out[28 + j] = ay;
    out[35 + j] = az;
  }
  return out;
}

/** Orientation error (rad, world axis-angle, small-angle form) taking frame `rot` to `desired`: ½ Σ cᵢ × c*ᵢ over the columns. */
export function rotationError(rot: ArrayLike<number>, desired: ArrayLike<number>): [number, number, number] {
  const e: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const c = [rot[i], rot[3 + i], rot[6 + i]], d = [desired[i], desired[3 + i], desired[6 + i]];
    e[0] += 0.5 * (c[1] * d[2] - c[2] * d[1]);
    e[1] += 0.5 * (c[2] * d[0] - c[0] * d[2]);
    e[2] += 0.5 * (c[0] * d[1] - c[1] * d[0]);
  }
  return e;
}

/** Inverse of a 6×6 symmetric positive-definite matrix (row-major), Gauss–Jordan with partial pivoting. */
function invert6(a: Float64Array): Float64Array {
  const n = 6, m = Float64Array.from(a), inv = new Float64Array(36);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[p * n + c])) p = r;
    if (p !== c) for (let k = 0; k < n; k++) {
      [m[c * n + k], m[p * n + k]] = [m[p * n + k], m[c * n + k]];
      [inv[c * n + k], inv[p * n + k]] = [inv[p * n + k], inv[c * n + k]];
    }
    const d = m[c * n + c];
    for (let k = 0; k < n; k++) (m[c * n + k] /= d), (inv[c * n + k] /= d);
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c];
      if (f) for (let k = 0; k < n; k++) (m[r * n + k] -= f * m[c * n + k]), (inv[r * n + k] -= f * inv[c * n + k]);
    }
  }
  return inv;
}

/**
 * One IK step: the joint increment dq [7] (rad) moving the tip towards `target` [3] (m) and the tool towards
 * `desiredRot` [9], plus the null-space pull of the joints towards `rest` [7]. The whole step is scaled down so that no joint moves
 * more than `maxJoint` [7] (rad; default: the servos' settling speed 10·dq within Franka's velocity limits).
 */
export function ikStep(k: ArmKinematics, target: ArrayLike<number>, desiredRot: ArrayLike<number>, rest: ArrayLike<number>, maxStep = MAX_STEP, maxJoint: ArrayLike<number> = JOINT_STEP): Float64Array {
  const J = jacobian(k);
  const e = new Float64Array(6);
  for (let i = 0; i < 3; i++) e[i] = target[i] - k.tip[i];
  const n = Math.hypot(e[0], e[1], e[2]);
  if (n > maxStep) for (let i = 0; i < 3; i++) e[i] *= maxStep / n;
  e.set(rotationError(k.rot, desiredRot), 3);
  // A = J Jᵀ + λ² I; J⁺ = Jᵀ A⁻¹ (7×6)
  const A = new Float64Array(36);
  for (let r = 0; r < 6; r++) for (let c = 0; c < 6; c++) {
    let s = r === c ? LAMBDA * LAMBDA : 0;
    for (let j = 0; j < 7; j++) s += J[r * 7 + j] * J[c * 7 + j];
    A[r * 6 + c] = s;
  }
  const Ai = invert6(A), P = new Float64Array(42); // P = J⁺
  for (let j = 0; j < 7; j++) for (let c = 0; c < 6; c++) {
    let s = 0;
    for (let r = 0; r < 6; r++) s += J[r * 7 + j] * Ai[r * 6 + c];
    P[j * 6 + c] = s;
  }
  const dq = new Float64Array(7), z = new Float64Array(7);
  for (let j = 0; j < 7; j++) z[j] = K_NULL * (rest[j] - k.q[j]);
  // dq = J⁺ e + (I − J⁺ J) z
  const Jz = new Float64Array(6);
  for (let r = 0; r < 6; r++) for (let j = 0; j < 7; j++) Jz[r] += J[r * 7 + j] * z[j];
  for (let j = 0; j < 7; j++) {
    let s = z[j];
    for (let c = 0; c < 6; c++) s += P[j * 6 + c] * (e[c] - Jz[c]);
    dq[j] = s;
  }
  let scale = 1;
  for (let j = 0; j < 7; j++) scale = Math.min(scale, maxJoint[j] / Math.max(1e-12, Math.abs(dq[j])));
  for (let j = 0; j < 7; j++) dq[j] *= scale;
  return dq;
}
