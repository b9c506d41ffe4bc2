/**
 * The env API (Gymnasium's, in TypeScript): reset({seed, options}) -> {obs, info};
 * step(action) -> {obs, reward, terminated, truncated, info}. Observations are named features, fresh arrays on
 * every call; terminated (the task ended) is distinct from truncated (a time limit); no implicit autoreset.
 */
import type { Box, Obs, Info, RgbFrame } from "../spaces.ts";
export { type Box, type Obs, type Info, type RgbFrame, box, boxDim } from "../spaces.ts";

/** What {@link Env.step} returns: the next observation, the reward, whether the task ended or was cut off, and diagnostics. */
export interface StepResult {
  obs: Obs;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

/** Facts about an env the control loop needs: its control rate, episode length and what a safe action is. */
export interface EnvMetadata {
  controlHz: number;
  maxEpisodeSteps?: number;
  /** What a safe action is: hold a position target, or zero a velocity command. */
  fallback?: "hold" | "zero";
  /** For "hold" before any action was sent: the observation feature (and offset) holding the current position. */
  holdFrom?: { feature: string; offset: number };
  /**
   * The env's full simulator state (`info.state`) as a Box, when it has one that resets can set exactly: interactive
   * sessions record it as "observation.state" beside the observations so that replays can restore it.
   */
  stateSpace?: Box;
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
