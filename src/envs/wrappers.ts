/** Wrappers (Gymnasium's): a time limit that truncates, and action clipping to the action space. */
import { ScdError } from "../errors.ts";
import type { Env, StepResult, Box } from "./types.ts";
import { boxDim } from "./types.ts";

/** The base of env wrappers: forwards every call to the wrapped env; subclasses override what they change. */
export abstract class Wrapper implements Env {
  constructor(readonly inner: Env) {}
  /** The wrapped env's id. */
  get id() {
    return this.inner.id;
  }
  /** The wrapped env's observation space. */
  get observationSpace() {
    return this.inner.observationSpace;
  }
  /** The wrapped env's action space. */
  get actionSpace() {
    return this.inner.actionSpace;
  }
  /** The wrapped env's metadata. */
  get metadata() {
    return this.inner.metadata;
  }
  /** Reset the wrapped env. */
  reset(opts?: Parameters<Env["reset"]>[0]) {
    return this.inner.reset(opts);
  }
  /** Step the wrapped env. */
  step(action: ArrayLike<number>): StepResult {
    return this.inner.step(action);
  }
  /** Render the wrapped env. */
  render() {
    return this.inner.render();
  }
  /** Close the wrapped env. */
  close() {
    this.inner.close();
  }
  /** The innermost env (for env-specific methods such as state setters). */
  get unwrapped(): Env {
    return this.inner instanceof Wrapper ? this.inner.unwrapped : this.inner;
  }
}

/** Truncates an episode after `maxSteps` steps (Gymnasium's TimeLimit): `truncated` is set on the last step. */
export class TimeLimit extends Wrapper {
  private t = 0;
  constructor(inner: Env, readonly maxSteps: number) {
    super(inner);
  }
  /** The wrapped env's metadata, with this limit as the episode length. */
  get metadata() {
    return { ...this.inner.metadata, maxEpisodeSteps: this.maxSteps };
  }
  /** Reset the wrapped env and the step count. */
  reset(opts?: Parameters<Env["reset"]>[0]) {
    this.t = 0;
    return this.inner.reset(opts);
  }
  /** Step the wrapped env; truncate at the limit unless the episode terminated. */
  step(action: ArrayLike<number>): StepResult {
    const r = this.inner.step(action);
    this.t++;
    return this.t >= this.maxSteps && !r.terminated ? { ...r, truncated: true } : r;
  }
  /** Steps taken since the last reset. */
  get elapsed(): number {
    return this.t;
  }
}

/** Validates the action (length, finite) and clamps each dimension to the action space. */
export function clipToBox(action: ArrayLike<number>, space: Box, envId: string): Float32Array {
  const n = boxDim(space);
  if (action.length !== n) throw new ScdError(`${envId}: action has ${action.length} values, the action space has ${n}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = action[i];
    if (!Number.isFinite(v)) throw new ScdError(`${envId}: action[${i}] is ${v}; actions must be finite numbers`);
    out[i] = Math.min(space.high[i], Math.max(space.low[i], v));
  }
  return out;
}

/** Checks each action (length, finite values) and clamps it to the action space (Gymnasium's ClipAction). */
export class ClipAction extends Wrapper {
  /** Step the wrapped env with the action clamped to the action space. @throws ScdError on a wrong length or a non-finite value. */
  step(action: ArrayLike<number>): StepResult {
    return this.inner.step(clipToBox(action, this.actionSpace, this.id));
  }
}
