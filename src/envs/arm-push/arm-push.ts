/**
 * arm-push-v1: a Franka Panda (7 joints, published kinematics; panda.ts) pushes a 6 cm cube across a table to a
 * target pose, on the official MuJoCo WebAssembly module. 10 Hz control: 50 MuJoCo substeps of 2 ms per action,
 * the IK controller every second substep (250 Hz).
 *
 * - Actions (control "ee", the default): the pusher tip's target (x, y) on the table (m), at the fixed height
 *   TIP_Z; an IK controller inside the env (controller.ts) turns it into servo targets. Control "joint": the 7
 *   joint position targets (rad). Either way each servo target is one bounded step from the joint's position, so
 *   the joints settle at speeds within Franka's velocity limits.
 * - Observation "observation.state" [14]: joint positions q1..q7 (rad), tip x, y, z (m), block x, y (m), and the
 *   block's yaw as cos 4θ, sin 4θ (the cube is the same every quarter turn).
 * - Reward: 1 − (d − 0.01) / 0.19 clipped to [0, 1], where d is the mean distance (m) between the block's corners
 *   and the target square's (task.ts: position and yaw in one number); success, which terminates the episode, is
 *   d ≤ 1 cm. `info` also reports the position and yaw errors and the coverage of the target square.
 * - Faults: a non-finite or wrong-length action throws an ScdError, as does a value more than one action-space span
 *   outside its bounds (wrong units); a simulation that goes unstable (MuJoCo resets it on a non-finite or huge
 *   state) is restored to the last good state and the step returns truncated with `info.simError`.
 */
import { ScdError } from "../../errors.ts";
import { type Env, type EnvMetadata, type Obs, type Info, type StepResult, type RgbFrame, type Box, box } from "../types.ts";
import { Rng } from "../../util/rng.ts";
import { mujoco, loadModel, takeMessages, messageCount, type MjModel, type MjData, type Mujoco } from "./mujoco.ts";
import { armPushMjcf, Q_MIN, Q_MAX, Q_READY, TIMESTEP } from "./panda.ts";
import { ikStep, JOINT_STEP } from "./controller.ts";
import { TARGET, TIP_START, TIP_Z, WORKSPACE_LOW, WORKSPACE_HIGH, SUCCESS_DISTANCE, drawBlockPose, coverage, cornerDistance, rewardAt, poseError, quatYaw } from "./task.ts";
import { renderArmPush } from "./render.ts";

export const CONTROL_HZ = 10;
export const SUBSTEPS = Math.round(1 / CONTROL_HZ / TIMESTEP);
const ID = "arm-push-v1";
const IK_JOINT_STEP = new Array(7).fill(0.1);
/** The IK runs every IK_EVERY substeps (IK_EVERY·2 ms); the servos hold its joint targets in between. */
export const IK_EVERY = 2;

export interface ArmPushOptions {
  /** "ee" (default): tip targets (x, y) in metres; "joint": 7 joint position targets in radians. */
  control?: "ee" | "joint";
  /** Side of the square frames render() draws (px, default 256). */
  renderSize?: number;
  /** Another scene (MJCF text) with the same names (joints joint1..7, free joint "block", sites "tip", "block"). */
  mjcf?: string;
}

const STATE_NAMES = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "tip x", "tip y", "tip z", "block x", "block y", "block cos4yaw", "block sin4yaw"];
const STATE_SPACE = box([14], [...Q_MIN, 0, -1, 0, -1, -1, -1, -1], [...Q_MAX, 1.2, 1, 1.2, 1, 1, 1, 1], STATE_NAMES);

export class ArmPushEnv implements Env {
  readonly id = ID;
  readonly control: "ee" | "joint";
  readonly actionSpace: Box;
  readonly observationSpace: Record<string, Box> = { "observation.state": STATE_SPACE };
  readonly metadata: EnvMetadata;
  private readonly mj: Mujoco;
  private model: MjModel | null;
  private data: MjData | null;
  private readonly ids: { tip: number; blockQpos: number };
  /** The joint configuration with the tip at TIP_START, tool down (solved once by IK). */
  private readonly qStart: Float64Array;
  private readonly downRot: Float64Array;
  private rng: Rng | null = null;
  private good: { qpos: Float64Array; qvel: Float64Array; ctrl: Float64Array; time: number } | null = null;
  private lastTarget: [number, number] | null = null;
  private readonly renderSize: number;

  /** @throws ScdError on a bad option or a scene MuJoCo cannot load or that lacks the names above. */
  constructor(opts: ArmPushOptions = {}) {
    this.control = opts.control ?? "ee";
    if (this.control !== "ee" && this.control !== "joint") throw new ScdError(`${ID}: control must be "ee" or "joint", got "${String(this.control)}"`);
    this.renderSize = opts.renderSize ?? 256;
    if (!Number.isInteger(this.renderSize) || this.renderSize < 16 || this.renderSize > 2048) throw new ScdError(`${ID}: renderSize must be an integer in [16, 2048], got ${opts.renderSize}`);
    this.actionSpace = this.control === "ee" ? box([2], WORKSPACE_LOW, WORKSPACE_HIGH, ["tip x", "tip y"]) : box([7], Q_MIN, Q_MAX, STATE_NAMES.slice(0, 7));
    this.metadata = { controlHz: CONTROL_HZ, fallback: "hold", holdFrom: { feature: "observation.state", offset: this.control === "ee" ? 7 : 0 } };
    if (opts.mjcf !== undefined && typeof opts.mjcf !== "string") throw new ScdError(`${ID}: options.mjcf must be MJCF text (a string), got ${typeof opts.mjcf}`);
    this.mj = mujoco();
    const model = loadModel(opts.mjcf ?? armPushMjcf(), `${ID}${opts.mjcf ? " (options.mjcf)" : ""}`);
    this.model = model;
    try {
      this.ids = this.resolve(model);
      this.data = new this.mj.MjData(model);
      // the tool-down orientation is the ready pose's; the start configuration puts the tip at TIP_START
      this.kinematics(Q_READY);
      this.downRot = Float64Array.from(this.data.site_xmat.subarray(9 * this.ids.tip, 9 * this.ids.tip + 9));
      this.qStart = this.solveIk([TIP_START[0], TIP_START[1], TIP_Z]);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private resolve(m: MjModel): ArmPushEnv["ids"] {
    const mj = this.mj, id = (type: number, name: string) => mj.mj_name2id(m, type, name);
    const J = mj.mjtObj.mjOBJ_JOINT.value, S = mj.mjtObj.mjOBJ_SITE.value;
    const missing = [...[1, 2, 3, 4, 5, 6, 7].map((i) => `joint${i}`).filter((n, i) => id(J, n) !== i), ...(id(J, "block") < 0 ? ["joint block"] : []), ...["tip", "block"].filter((n) => id(S, n) < 0).map((n) => `site ${n}`)];
    if (missing.length || m.nu < 7) throw new ScdError(`${ID}: the scene needs joints joint1..joint7 first, a free joint "block", sites "tip" and "block" and 7 actuators; missing: ${missing.join(", ") || `${7 - m.nu} actuators`}`, "incompatible");
    const b = id(J, "block");
    return { tip: id(S, "tip"), blockQpos: (m.jnt_qposadr as Int32Array)[b] };
  }

  private live(): { m: MjModel; d: MjData } {
    if (!this.model || !this.data) throw new ScdError(`${ID}: the env is closed`);
    return { m: this.model, d: this.data };
  }

  /** Set the arm's joints to q and run MuJoCo's forward kinematics only. */
  private kinematics(q: ArrayLike<number>): void {
    const { m, d } = this.live();
    d.qpos.set(q, 0);
    this.mj.mj_kinematics(m, d);
  }

  /** What the IK step reads, afresh from MuJoCo's views (a view taken before the heap grows detaches). */
  private arm() {
    const d = this.live().d, t = this.ids.tip;
    return { q: d.qpos.subarray(0, 7), anchors: d.xanchor.subarray(0, 21), axes: d.xaxis.subarray(0, 21), tip: d.site_xpos.subarray(3 * t, 3 * t + 3), rot: d.site_xmat.subarray(9 * t, 9 * t + 9) };
  }

  /** Kinematic IK (no dynamics): joints that put the tip at `target` with the tool down, from the ready pose. */
  private solveIk(target: number[]): Float64Array {
    const q = Float64Array.from(Q_READY);
    for (let it = 0; it < 300; it++) {
      this.kinematics(q);
      const dq = ikStep(this.arm(), target, this.downRot, Q_READY, 0.02, IK_JOINT_STEP);
      for (let j = 0; j < 7; j++) q[j] = Math.min(Q_MAX[j], Math.max(Q_MIN[j], q[j] + dq[j]));
    }
    return q;
  }

  /**
   * Start an episode: the arm at its start pose (tip at TIP_START), the block drawn from the start region with the
   * env's own generator (Gymnasium's seeding: a seed re-seeds it, no seed continues it), or placed at
   * `options.block` = [x, y, yaw] (m, m, rad). @throws ScdError on a bad options.block.
   */
  reset(opts: { seed?: number; options?: { block?: number[] } } = {}): { obs: Obs; info: Info } {
    const { m, d } = this.live();
    if (opts.seed !== undefined) this.rng = new Rng(opts.seed);
    else this.rng ??= new Rng(Math.floor(Math.random() * 2 ** 31)); // never seeded: from entropy, as Gymnasium
    const drawn = drawBlockPose(this.rng);
    const given = opts.options?.block;
    if (given !== undefined && (!Array.isArray(given) || given.length !== 3 || !given.every(Number.isFinite)))
      throw new ScdError(`${ID}: options.block must be [x, y, yaw] (3 finite numbers, m and rad), got ${JSON.stringify(given)}`);
    const [x, y, yaw] = given ?? drawn;
    this.mj.mj_resetData(m, d);
    d.qpos.set(this.qStart, 0);
    d.qpos.set([x, y, TIP_Z, Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)], this.ids.blockQpos);
    d.ctrl.set(this.qStart, 0);
    this.mj.mj_forward(m, d);
    this.lastTarget = null;
    this.saveGood();
    return { obs: this.observe(), info: { ...this.info(), ...(opts.seed !== undefined ? { seed: opts.seed } : {}), resetState: [x, y, yaw] } };
  }

  /** Check an action: length, finite, and not more than one span outside the space (wrong units); clamp it. */
  private checkAction(action: ArrayLike<number>): Float64Array {
    const { low, high } = this.actionSpace, n = low.length;
    if (!action || action.length !== n) throw new ScdError(`${ID}: action must have ${n} values (${this.control === "ee" ? "tip x, y in m" : "joint targets in rad"}), got ${action?.length}`);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = Number(action[i]), span = high[i] - low[i];
      if (!Number.isFinite(v)) throw new ScdError(`${ID}: action[${i}] is ${action[i]}; actions must be finite numbers`);
      if (v < low[i] - span || v > high[i] + span) throw new ScdError(`${ID}: action[${i}] = ${v} is far outside [${low[i]}, ${high[i]}] (${this.control === "ee" ? "metres" : "radians"})`);
      out[i] = Math.min(high[i], Math.max(low[i], v));
    }
    return out;
  }

  /** Apply one action for one control period (SUBSTEPS MuJoCo steps). @throws ScdError on a bad action or a closed env. */
  step(action: ArrayLike<number>): StepResult {
    const { m, d } = this.live();
    const a = this.checkAction(action);
    const target = [a[0], a[1], TIP_Z];
    if (this.control === "ee") this.lastTarget = [a[0], a[1]];
    const t0 = d.time;
    takeMessages(); // what MuJoCo prints from here on is this step's
    for (let s = 0; s < SUBSTEPS; s++) {
      if (s % IK_EVERY === 0) {
        // servo targets one bounded step from where the joints are: towards the IK's solution or the joint targets
        const arm = this.arm(), dq = this.control === "ee" ? ikStep(arm, target, this.downRot, Q_READY) : null, ctrl = d.ctrl;
        for (let j = 0; j < 7; j++) {
          const step = dq ? dq[j] : Math.max(-JOINT_STEP[j], Math.min(JOINT_STEP[j], a[j] - arm.q[j]));
          ctrl[j] = Math.min(Q_MAX[j], Math.max(Q_MIN[j], arm.q[j] + step));
        }
      }
      this.mj.mj_step(m, d);
    }
    this.mj.mj_kinematics(m, d); // positions of the new state (mj_step leaves those of the state before its last step)
    const fault = this.fault(t0);
    if (fault) {
      this.restoreGood();
      const info = { ...this.info(), simError: fault };
      return { obs: this.observe(), reward: 0, terminated: false, truncated: true, info };
    }
    this.saveGood();
    const info = this.info();
    return { obs: this.observe(), reward: rewardAt(info.cornerDistance as number), terminated: !!info.isSuccess, truncated: false, info };
  }

  /**
   * Why the last control period went wrong, or null: MuJoCo warned (on a non-finite or huge state it prints a
   * warning and resets its data), its clock is not where SUBSTEPS steps put it (it was reset), or the state is not finite.
   */
  private fault(t0: number): string | null {
    const d = this.live().d;
    const bad = (v: Float64Array) => v.some((x) => !Number.isFinite(x));
    if (!messageCount() && Math.abs(d.time - (t0 + SUBSTEPS * TIMESTEP)) < TIMESTEP / 2 && !bad(d.qpos) && !bad(d.qvel)) return null;
    const names = ["inertia", "contact buffer full", "constraint buffer full", "visual geoms full", "bad qpos", "bad qvel", "bad qacc", "bad ctrl"];
    const w = d.warning, seen: string[] = [];
    for (let k = 0; k < names.length; k++) {
      const s = w.get(k); // a copy: delete it (and the vector), or the wasm heap grows
      if (s && s.number > 0) seen.push(`${names[k]} ×${s.number}`);
      s?.delete();
    }
    w.delete();
    const said = takeMessages();
    return `MuJoCo: the simulation went unstable at t = ${t0.toFixed(2)} s (${seen.join(", ") || "non-finite state"}${said ? `: ${said}` : ""}); restored the last good state`;
  }

  private saveGood(): void {
    const d = this.live().d;
    this.good = { qpos: Float64Array.from(d.qpos), qvel: Float64Array.from(d.qvel), ctrl: Float64Array.from(d.ctrl), time: d.time };
  }

  private restoreGood(): void {
    const { m, d } = this.live(), g = this.good!;
    this.mj.mj_resetData(m, d); // clears MuJoCo's warning counters too
    d.qpos.set(g.qpos);
    d.qvel.set(g.qvel);
    d.ctrl.set(g.ctrl);
    d.time = g.time;
    this.mj.mj_forward(m, d);
  }

  /** The tip's last commanded target (x, y) in metres (control "ee"); null after a reset or with joint control. */
  tipTarget(): [number, number] | null {
    return this.lastTarget && [this.lastTarget[0], this.lastTarget[1]];
  }

  /**
   * The live MuJoCo model and data, for inspection and tests (fault injection). Read their array views afresh
   * each time: a view taken before the wasm heap grows is detached. @throws ScdError when the env is closed.
   */
  simulation(): { model: MjModel; data: MjData; mujoco: Mujoco } {
    const { m, d } = this.live();
    return { model: m, data: d, mujoco: this.mj };
  }

  /** The block's pose [x, y, yaw] (m, m, rad). */
  blockPose(): [number, number, number] {
    const q = this.live().d.qpos, b = this.ids.blockQpos;
    return [q[b], q[b + 1], quatYaw(q[b + 3], q[b + 4], q[b + 5], q[b + 6])];
  }

  private info(): Info {
    const [x, y, yaw] = this.blockPose(), d = cornerDistance(x, y, yaw), err = poseError(x, y, yaw);
    return { cornerDistance: d, isSuccess: d <= SUCCESS_DISTANCE, positionError: err.position, yawError: err.yaw, coverage: coverage(x, y, yaw), block: [x, y, yaw] };
  }

  private observe(): Obs {
    const d = this.live().d, t = this.ids.tip, [x, y, yaw] = this.blockPose();
    const o = new Float32Array(14);
    o.set(d.qpos.subarray(0, 7), 0);
    o.set(d.site_xpos.subarray(3 * t, 3 * t + 3), 7);
    o.set([x, y, Math.cos(4 * yaw), Math.sin(4 * yaw)], 10);
    return { "observation.state": o };
  }

  /** Draw the scene (projection of the primitive geoms, the target square, the tip's target) as RGB. */
  render(): RgbFrame {
    const { m, d } = this.live();
    return renderArmPush(m, d, { target: TARGET, tipTarget: this.lastTarget, size: this.renderSize });
  }

  /** Free the MjData and MjModel (the wasm heap keeps its size; the memory is reused). Idempotent. */
  close(): void {
    this.data?.delete();
    this.model?.delete();
    this.data = this.model = null;
  }
}
