/**
 * N copies of an env stepped in one call (evaluation). No autoreset: an env that has finished stays finished and
 * its slot keeps its last result until the next reset.
 */
import type { Env, Obs, Info, StepResult } from "./types.ts";

/** N envs stepped in one call, without autoreset: a finished slot keeps its last result until the next reset. */
export class VectorEnv {
  private readonly done: boolean[];
  private readonly last: (StepResult | null)[];
  constructor(readonly envs: Env[]) {
    if (!envs.length) throw new Error("VectorEnv needs at least one env");
    this.done = envs.map(() => false);
    this.last = envs.map(() => null);
  }
  /** Number of envs. */
  get num(): number {
    return this.envs.length;
  }
  /** Reset every env, env i with `seeds[i]`. */
  reset(seeds: number[], options?: Record<string, unknown>): { obs: Obs; info: Info }[] {
    if (seeds.length !== this.envs.length) throw new Error(`VectorEnv.reset: ${seeds.length} seeds for ${this.envs.length} envs`);
    this.done.fill(false);
    this.last.fill(null);
    return this.envs.map((e, i) => e.reset({ seed: seeds[i], options }));
  }
  /** Steps every env that has not finished; finished slots return their final result with `active: false`. */
  step(actions: ArrayLike<number>[]): (StepResult & { active: boolean })[] {
    return this.envs.map((e, i) => {
      if (this.done[i]) return { ...this.last[i]!, active: false };
      const r = e.step(actions[i]);
      this.last[i] = r;
      this.done[i] = r.terminated || r.truncated;
      return { ...r, active: true };
    });
  }
  /** Whether every env has terminated or been truncated. */
  get allDone(): boolean {
    return this.done.every(Boolean);
  }
  /** Close every env. */
  close(): void {
    for (const e of this.envs) e.close();
  }
}
