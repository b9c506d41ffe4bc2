/** Wrappers (Gymnasium's): a time limit that truncates, and action clipping to the action space. */
import { ScdError } from "../errors.ts";
import type { Env, StepResult, Box } from "./types.ts";
import { boxDim } from "./types.ts";

export abstract class Wrapper implements Env {
  constructor(readonly inner: Env) {}
  get id() {
    return this.inner.id;
  }
  get observationSpace() {
    return this.inner.observationSpace;
  }
  get actionSpace() {
    return this.inner.actionSpace;
  }
  get metadata() {
    return this.inner.metadata;
  }
  reset(opts?: Parameters<Env["reset"]>[0]) {
    return this.inner.reset(opts);
  }
  step(action: ArrayLike<number>): StepResult {
    return this.inner.step(action);
  }
  render() {
    return this.inner.render();
  }
  close() {
    this.inner.close();
  }
  /** The innermost env (for env-specific methods such as state setters). */
  get unwrapped(): Env {
    return this.inner instanceof Wrapper ? this.inner.unwrapped : this.inner;
  }
}

export class TimeLimit extends Wrapper {
  private t = 0;
  constructor(inner: Env, readonly maxSteps: number) {
    super(inner);
  }
  get metadata() {
    return { ...this.inner.metadata, maxEpisodeSteps: this.maxSteps };
  }
  reset(opts?: Parameters<Env["reset"]>[0]) {
    this.t = 0;
    return this.inner.reset(opts);
  }
  step(action: ArrayLike<number>): StepResult {
    const r = this.inner.step(action);
    this.t++;
    return this.t >= this.maxSteps && !r.terminated ? { ...r, truncated: true } : r;
  }
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

export class ClipAction extends Wrapper {
  step(action: ArrayLike<number>): StepResult {
    return this.inner.step(clipToBox(action, this.actionSpace, this.id));
  }
}
