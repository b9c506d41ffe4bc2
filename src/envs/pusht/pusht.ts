/**
 * Push-T (Diffusion Policy's benchmark), faithful to ../shared/specs/pusht.md: 10 Hz control, 10 physics
 * substeps with a PD-driven kinematic agent, exact coverage, reward = clip(coverage / 0.95, 0, 1), success when
 * coverage > 0.95. Observation modes: `state` (5-d) and `keypoints` (9 block keypoints + agent x, y); opt-in
 * `obsType: "pixels_agent_pos"` (gym-pusht's name) adds `observation.image`, the 96 × 96 RGB frame Diffusion
 * Policy's image recordings hold (pixels.ts), with the agent's position from the keypoint (or state) features.
 */
import { ScdError } from "../../errors.ts";
import { type Env, type EnvMetadata, type Obs, type Info, type StepResult, type RgbFrame, type Box, box } from "../types.ts";
import { T_PARTS, GOAL_POSE, coverage, transform } from "./geometry.ts";
import { type World, newWorld, stepWorld, blockOrigin, setBlockPosition, setBlockAngle, blockParts, AGENT_RADIUS } from "./physics.ts";
import { RandomState, pushtResetDraw } from "./random-state.ts";
import { renderPushT } from "./render.ts";
import { renderPushTObservation } from "./pixels.ts";

export const SIM_HZ = 100;
export const CONTROL_HZ = 10;
const K_P = 100, K_V = 20;
export const SUCCESS_COVERAGE = 0.95;
/** The full state `getState()` returns (agent x, y; block x, y in pixels; block angle in radians). */
const STATE_SPACE = box([5], [0, 0, 0, 0, 0], [512, 512, 512, 512, 2 * Math.PI], ["agent x", "agent y", "block x", "block y", "block angle"]);

/** Local block coordinates of Diffusion Policy's 9 keypoints, recovered from the human dataset (test: pusht-env). */
export const LOCAL_KEYPOINTS: [number, number][] = [
  [9.27, 90.041], [-60.983, -1.187], [60.913, -1.393], [-0.27, 25.544], [-14.065, 122.816],
  [39.003, 32.858], [-39.966, 32.73], [-16.824, 62.863], [23.542, -1.7],
];

export type PushTObsMode = "state" | "keypoints";
export type StateSetter = "legacy" | "exact";
/** Extra observations beyond obsMode's, named as gym-pusht's obs_type. */
export type PushTObsType = "pixels_agent_pos";
/** Side of the square `observation.image` (Diffusion Policy's render_size). */
export const IMAGE_SIZE = 96;
export interface PushTOptions {
  obsMode?: PushTObsMode;
  /** "pixels_agent_pos": also observe `observation.image`, [96, 96, 3] RGB bytes 0..255 (HWC) as float32 values. */
  obsType?: PushTObsType;
  renderSize?: number;
}

export class PushTEnv implements Env {
  /** The registered id this configuration is: pusht-image-v1 with the camera frame, else pusht-v1. */
  readonly id: string;
  readonly metadata: EnvMetadata;
  readonly actionSpace = box([2], 0, 512, ["target x", "target y"]);
  readonly observationSpace: Record<string, Box>;
  readonly obsMode: PushTObsMode;
  readonly obsType: PushTObsType | undefined;
  private world: World = newWorld();
  private lastAction: [number, number] | null = null;
  /** The env's own generator (Gymnasium): reset({seed}) re-seeds it, reset() continues it. */
  private rs: RandomState | null = null;
  private readonly renderSize: number;

  constructor(opts: PushTOptions = {}) {
    this.obsMode = opts.obsMode ?? "keypoints";
    if (this.obsMode !== "state" && this.obsMode !== "keypoints") throw new ScdError(`pusht-v1: obsMode must be "state" or "keypoints", got "${this.obsMode}"`);
    this.obsType = opts.obsType;
    if (this.obsType !== undefined && this.obsType !== "pixels_agent_pos") throw new ScdError(`pusht-v1: obsType must be "pixels_agent_pos" or absent, got "${this.obsType}"`);
    this.renderSize = opts.renderSize ?? 512;
    this.id = this.obsType ? "pusht-image-v1" : "pusht-v1";
    // absolute position targets: the safe action holds the agent where it is
    this.metadata = { controlHz: CONTROL_HZ, fallback: "hold" as const, stateSpace: STATE_SPACE, holdFrom: this.obsMode === "state" ? { feature: "observation.state", offset: 0 } : { feature: "observation.agent_pos", offset: 0 } };
    this.observationSpace =
      this.obsMode === "state"
        ? { "observation.state": STATE_SPACE }
        : { "observation.keypoints": box([9, 2], -256, 768), "observation.agent_pos": box([2], 0, 512, ["agent x", "agent y"]) };
    if (this.obsType) this.observationSpace["observation.image"] = box([IMAGE_SIZE, IMAGE_SIZE, 3], 0, 255);
  }

  /** Reset from numpy's RandomState(seed) (the evaluation protocol), or to options.state with options.setter. */
  reset(opts: { seed?: number; options?: { state?: number[]; setter?: StateSetter } } = {}): { obs: Obs; info: Info } {
    const st = opts.options?.state;
    // seed k draws exactly what Diffusion Policy's RandomState(k) draws (the evaluation protocol)
    if (opts.seed !== undefined) this.rs = new RandomState(opts.seed);
    else this.rs ??= new RandomState(Math.floor(Math.random() * 2 ** 32)); // never seeded: from entropy, as Gymnasium
    const state = st ?? pushtResetDraw(this.rs);
    this.setState(state, opts.options?.setter ?? "legacy");
    return { obs: this.observe(), info: { ...this.info(), ...(opts.seed !== undefined ? { seed: opts.seed } : {}), resetState: [...state] } };
  }

  /**
   * Set [agent x, agent y, block x, block y, angle] on a fresh world, then run one physics step (as the original).
   * legacy: position first, then angle (Chipmunk rotates about the CoG, so the origin moves) — evaluation resets.
   * exact: angle first, then position — the block origin lands exactly on the given state (replays).
   */
  setState(state: ArrayLike<number>, setter: StateSetter): void {
    if (state.length !== 5 || !Array.from(state).every(Number.isFinite)) throw new ScdError(`pusht-v1: state must be 5 finite numbers [agent x, agent y, block x, block y, angle], got [${Array.from(state)}]`);
    this.world = newWorld();
    this.world.agent.x = state[0];
    this.world.agent.y = state[1];
    if (setter === "legacy") {
      setBlockPosition(this.world, state[2], state[3]);
      setBlockAngle(this.world, state[4]);
    } else {
      setBlockAngle(this.world, state[4]);
      setBlockPosition(this.world, state[2], state[3]);
    }
    this.lastAction = null;
    stepWorld(this.world, 1 / SIM_HZ);
  }

  getState(): number[] {
    const [x, y] = blockOrigin(this.world);
    const a = this.world.block.a;
    return [this.world.agent.x, this.world.agent.y, x, y, ((a % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI)];
  }

  step(action: ArrayLike<number>): StepResult {
    if (action.length !== 2) throw new ScdError(`pusht-v1: action must have 2 values (target x, y), got ${action.length}`);
    const tx = action[0], ty = action[1];
    if (!Number.isFinite(tx) || !Number.isFinite(ty)) throw new ScdError(`pusht-v1: action [${tx}, ${ty}] is not finite`);
    this.lastAction = [tx, ty];
    const dt = 1 / SIM_HZ, ag = this.world.agent;
    for (let i = 0; i < SIM_HZ / CONTROL_HZ; i++) {
      // PD control of the kinematic agent towards the target, then one physics step
      ag.vx += (K_P * (tx - ag.x) + K_V * (0 - ag.vx)) * dt;
      ag.vy += (K_P * (ty - ag.y) + K_V * (0 - ag.vy)) * dt;
      stepWorld(this.world, dt);
    }
    const info = this.info();
    const cov = info.coverage as number;
    return { obs: this.observe(), reward: Math.min(1, Math.max(0, cov / SUCCESS_COVERAGE)), terminated: cov > SUCCESS_COVERAGE, truncated: false, info };
  }

  coverage(): number {
    const [x, y] = blockOrigin(this.world);
    return coverage(x, y, this.world.block.a);
  }

  private info(): Info {
    const cov = this.coverage();
    return { coverage: cov, isSuccess: cov > SUCCESS_COVERAGE, state: this.getState() };
  }

  keypoints(): Float32Array {
    const [x, y] = blockOrigin(this.world);
    const pts = transform(LOCAL_KEYPOINTS, x, y, this.world.block.a);
    return Float32Array.from(pts.flat());
  }

  private observe(): Obs {
    const obs: Obs =
      this.obsMode === "state"
        ? { "observation.state": Float32Array.from(this.getState()) }
        : { "observation.keypoints": this.keypoints(), "observation.agent_pos": Float32Array.from([this.world.agent.x, this.world.agent.y]) };
    if (this.obsType) obs["observation.image"] = this.image();
    return obs;
  }

  /** The recordings' 96 × 96 RGB frame of the current state (HWC, values 0..255; Obs features are float32). */
  private image(): Float32Array {
    const [x, y] = blockOrigin(this.world);
    return Float32Array.from(renderPushTObservation([this.world.agent.x, this.world.agent.y, x, y, this.world.block.a], IMAGE_SIZE));
  }

  render(): RgbFrame {
    return renderPushT(
      { goal: T_PARTS.map((p) => transform(p, ...GOAL_POSE)), block: blockParts(this.world), agent: [this.world.agent.x, this.world.agent.y], agentRadius: AGENT_RADIUS, target: this.lastAction },
      this.renderSize,
    );
  }

  close(): void {}
}
