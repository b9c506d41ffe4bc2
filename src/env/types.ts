/**
 * The env API (Gymnasium's, in TypeScript): reset({seed, options}) -> {obs, info};
 * step(action) -> {obs, reward, terminated, truncated, info}. Observations are named features, fresh arrays on
 * every call; terminated (the task ended) is distinct from truncated (a time limit); no implicit autoreset.
 */
export interface Box {
  shape: number[];
  low: number[]; // per flat dimension
  high: number[];
  names?: string[];
}

export type Obs = Record<string, Float32Array>;
export type Info = Record<string, unknown> & { isSuccess?: boolean };

export interface StepResult {
  obs: Obs;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8ClampedArray; // RGB, row-major, 3 bytes per pixel
}

export interface EnvMetadata {
  controlHz: number;
  maxEpisodeSteps?: number;
  /** What a safe action is: hold a position target, or zero a velocity command. */
  fallback?: "hold" | "zero";
  /** For "hold" before any action was sent: the observation feature (and offset) holding the current position. */
  holdFrom?: { feature: string; offset: number };
}

export interface Env {
  readonly id: string;
  readonly observationSpace: Record<string, Box>;
  readonly actionSpace: Box;
  readonly metadata: EnvMetadata;
  reset(opts?: { seed?: number; options?: Record<string, unknown> }): { obs: Obs; info: Info };
  step(action: ArrayLike<number>): StepResult;
  render(): RgbFrame;
  close(): void;
}

export const boxDim = (b: Box): number => b.shape.reduce((a, c) => a * c, 1);

export function box(shape: number[], low: number | number[], high: number | number[], names?: string[]): Box {
  const n = shape.reduce((a, c) => a * c, 1);
  const arr = (v: number | number[]) => (Array.isArray(v) ? v : new Array(n).fill(v));
  return { shape, low: arr(low), high: arr(high), ...(names ? { names } : {}) };
}
