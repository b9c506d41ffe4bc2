/**
 * An env for interactive sessions (browser-safe): the control loop's episode driver resets the env it is given,
 * but a person taking over (or handing back) continues from the current state, so `reset()` returns the current
 * observation unless `restart(seed)` asked for a fresh episode. An env's full state (its `metadata.stateSpace`,
 * e.g. Push-T's agent x, y, block x, y, angle) is added as "observation.state" so recordings carry it beside the
 * observations, as the shipped demonstrations do.
 */
import type { Box, Env, EnvMetadata, Info, Obs, RgbFrame, StepResult } from "../envs/types.ts";

/** The page's readouts of the current episode: steps, reward, max reward, coverage (Push-T), whether it terminated. */
export interface StepInfo {
  step: number;
  reward: number;
  maxReward: number;
  coverage: number | null;
  terminated: boolean;
}

/** An env for interactive pages: `reset()` continues from the current state unless `restart(seed)` asked for a fresh episode. */
export class LiveEnv implements Env {
  readonly id: string;
  readonly observationSpace: Record<string, Box>;
  readonly actionSpace: Box;
  readonly metadata: EnvMetadata;
  private pending: { seed: number; state?: number[] } | null = null;
  private last: { obs: Obs; info: Info } | null = null;
  /** Steps, reward and max reward since the last restart. */
  stats: StepInfo = { step: 0, reward: 0, maxReward: 0, coverage: null, terminated: false };

  constructor(readonly inner: Env) {
    this.id = inner.id;
    this.actionSpace = inner.actionSpace;
    this.metadata = inner.metadata;
    const hasState = "observation.state" in inner.observationSpace;
    const state = inner.metadata.stateSpace;
    this.observationSpace = hasState || !state ? inner.observationSpace : { ...inner.observationSpace, "observation.state": state };
  }

  /** The next reset() starts a fresh episode from `seed` (or, for Push-T, from `state` set exactly, as replays do). */
  restart(seed: number, state?: number[]): void {
    this.pending = { seed, state };
  }

  private withState(obs: Obs, info: Info): Obs {
    const st = info.state as number[] | undefined;
    return "observation.state" in this.observationSpace && !("observation.state" in obs) && st ? { ...obs, "observation.state": Float32Array.from(st) } : obs;
  }

  reset(opts: { seed?: number } = {}): { obs: Obs; info: Info } {
    if (this.last && !this.pending) return { obs: this.last.obs, info: this.last.info };
    const p = this.pending ?? { seed: opts.seed ?? 0 };
    this.pending = null;
    const r = this.inner.reset(p.state ? { seed: p.seed, options: { state: p.state, setter: "exact" } } : { seed: p.seed });
    this.last = { obs: this.withState(r.obs, r.info), info: r.info };
    this.stats = { step: 0, reward: 0, maxReward: 0, coverage: typeof r.info.coverage === "number" ? r.info.coverage : null, terminated: false };
    return this.last;
  }

  step(action: ArrayLike<number>): StepResult {
    const r = this.inner.step(action);
    const obs = this.withState(r.obs, r.info);
    this.last = { obs, info: r.info };
    const s = this.stats;
    this.stats = { step: s.step + 1, reward: r.reward, maxReward: Math.max(s.maxReward, r.reward), coverage: typeof r.info.coverage === "number" ? r.info.coverage : null, terminated: s.terminated || r.terminated };
    return { ...r, obs };
  }

  /** The latest observation (after reset or step), or null before the first reset. */
  get current(): Obs | null {
    return this.last?.obs ?? null;
  }

  render(): RgbFrame {
    return this.inner.render();
  }

  close(): void {
    this.inner.close();
  }
}
