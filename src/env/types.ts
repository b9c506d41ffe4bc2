/**
 * The env API (Gymnasium's, in TypeScript): reset({seed, options}) -> {obs, info};
 * step(action) -> {obs, reward, terminated, truncated, info}. Observations are named features, fresh arrays on
 * every call; terminated (the task ended) is distinct from truncated (a time limit); no implicit autoreset.
 */
/** A box space (Gymnasium's Box): a shape and per-dimension bounds over the flattened values. */
export interface Box {
  shape: number[];
  low: number[]; // per flat dimension
  high: number[];
  names?: string[];
}

/** An observation: named features, each a fresh flat array (e.g. "observation.state"). */
export type Obs = Record<string, Float32Array>;
/** Diagnostics an env returns with reset and step; `isSuccess` when the task has a success test. */
export type Info = Record<string, unknown> & { isSuccess?: boolean };

/** What {@link Env.step} returns: the next observation, the reward, whether the task ended or was cut off, and diagnostics. */
export interface StepResult {
  obs: Obs;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

/** An RGB image: 3 bytes per pixel, row-major. */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8ClampedArray; // RGB, row-major, 3 bytes per pixel
}

/** Facts about an env the control loop needs: its control rate, episode length and what a safe action is. */
export interface EnvMetadata {
  controlHz: number;
  maxEpisodeSteps?: number;
  /** What a safe action is: hold a position target, or zero a velocity command. */
  fallback?: "hold" | "zero";
  /** For "hold" before any action was sent: the observation feature (and offset) holding the current position. */
  holdFrom?: { feature: string; offset: number };
}

/** A simulator with Gymnasium's API: seeded resets, steps, rendering. Made by id with {@link makeEnv}. */
export interface Env {
  /** The versioned id it was registered under ("pusht-v1"). */
  readonly id: string;
  /** The observation's features and their spaces. */
  readonly observationSpace: Record<string, Box>;
  /** The action's space. */
  readonly actionSpace: Box;
  /** Control rate, episode length, safe action. */
  readonly metadata: EnvMetadata;
  /** Start an episode: with a seed, reproducibly; without, continuing the env's own generator. */
  reset(opts?: { seed?: number; options?: Record<string, unknown> }): { obs: Obs; info: Info };
  /** Apply one action for one control period. */
  step(action: ArrayLike<number>): StepResult;
  /** Draw the current state. */
  render(): RgbFrame;
  /** Release what the env holds. */
  close(): void;
}

export const boxDim = (b: Box): number => b.shape.reduce((a, c) => a * c, 1);

export function box(shape: number[], low: number | number[], high: number | number[], names?: string[]): Box {
  const n = shape.reduce((a, c) => a * c, 1);
  const arr = (v: number | number[]) => (Array.isArray(v) ? v : new Array(n).fill(v));
  return { shape, low: arr(low), high: arr(high), ...(names ? { names } : {}) };
}
