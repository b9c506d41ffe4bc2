/**
 * Drives a LiveEnv with the control loop (src/loop/loop.ts, the same code as `scd run` / `scd eval`) for an
 * interactive page, browser-safe. The loop runs on a virtual clock that the page advances tick by tick: at the
 * env's control rate against the wall clock ("real time"), or as fast as the machine allows ("fast"), or one
 * tick at a time (paused + step) — one code path for all three, and pausing keeps the policy's state. Inference
 * latency is modelled in virtual time as measured (as in evaluation), so a slow chunk is a deadline miss at any
 * speed. Loop events and executed steps stream to the hooks as they happen.
 */
import { BehaviorSubject, VirtualTimeScheduler, VirtualAction, type Subscription } from "rxjs";
import type { Obs } from "../envs/types.ts";
import type { ChunkPolicy } from "../policies/types.ts";
import { controlLoop, type LoopEvent, type ActionSource } from "../loop/loop.ts";
import { simFault } from "../loop/runner.ts";
import type { Strategy } from "../loop/queue.ts";
import type { TimedObs } from "../loop/safety.ts";
import type { LiveEnv } from "./live-env.ts";

/** A live run's settings: chunk execution strategy, denoising steps, seed and step limit. */
export interface LiveConfig {
  strategy: Strategy;
  /** Denoising steps K (undefined: the policy's default). */
  steps?: number;
  seed: number;
  /** Stop after this many executed steps (the env's episode limit). */
  maxSteps: number;
}

/** What a page hears from a live run: loop events, executed steps, the end and loop failures. */
export interface LiveHooks {
  /** Each loop event (actions, inferences, misses, errors) as it happens. */
  onEvent?(e: LoopEvent): void;
  /** After each executed step: the observation the action was chosen from, the action, its source, seconds since start. */
  onStep?(obs: Obs, action: Float32Array, source: ActionSource, tSec: number): void;
  /** The run ended by itself (terminated, step limit) or by stop(). */
  onEnd?(why: "terminated" | "limit" | "stopped" | "fault"): void; // fault: the simulator failed (an error event said why)
  /** The loop itself failed (an observation stream error); the run ends after this. */
  onError?(e: unknown): void;
}

/** The control loop driving a {@link LiveEnv} on a virtual clock that the page advances tick by tick ({@link LiveRun.pump}). */
export class LiveRun {
  private sub: Subscription | null = null;
  private readonly sched = new VirtualTimeScheduler(VirtualAction, 0);
  private ended = false;
  private until = 0; // virtual ms the next pump runs to (one tick each)
  readonly periodMs: number;

  constructor(readonly env: LiveEnv, readonly policy: ChunkPolicy, readonly cfg: LiveConfig, private readonly hooks: LiveHooks = {}) {
    this.periodMs = 1000 / env.metadata.controlHz;
  }

  /** Resets the env (LiveEnv: continues unless restart() was called) and starts the loop. */
  start(): void {
    const { env, policy, cfg } = this;
    const sched = this.sched;
    const clock = () => sched.now();
    const { obs } = env.reset({ seed: cfg.seed });
    let current = obs;
    const t0 = clock();
    const obs$ = new BehaviorSubject<TimedObs>({ obs, t: t0 });
    const hold = env.metadata.holdFrom;
    const actuator = (a: Float32Array, source: ActionSource) => {
      if (this.ended || source === "final") return;
      const before = current;
      const r = env.step(a);
      current = r.obs;
      this.hooks.onStep?.(before, a, source, (clock() - t0) / 1000);
      obs$.next({ obs: r.obs, t: clock() });
      const fault = simFault(r.info);
      if (fault) {
        // the env restored its last good state and truncated: an error in the readouts, and the episode ends
        this.hooks.onEvent?.({ type: "error", tick: Math.round((clock() - t0) / this.periodMs), t: clock(), reason: fault });
        this.finish("fault");
      } else if (r.terminated) this.finish("terminated");
      else if (env.stats.step >= cfg.maxSteps) this.finish("limit");
    };
    const loop$ = controlLoop(policy, obs$, { observationSpace: env.observationSpace, actionSpace: env.actionSpace, actuator }, {
      periodMs: this.periodMs,
      strategy: cfg.strategy,
      fallback: env.metadata.fallback ?? "hold",
      holdFrom: hold ? (o) => o[hold.feature]?.slice(hold.offset, hold.offset + env.actionSpace.shape[0]) ?? null : undefined,
      steps: cfg.steps,
      seed: cfg.seed,
      mode: "virtual",
      latencyMs: "measured",
      clock,
    }, sched);
    this.sub = loop$.subscribe({ next: (e) => this.hooks.onEvent?.(e), error: (e) => (this.hooks.onError?.(e), this.finish("stopped")) });
    if (this.ended) this.sub.unsubscribe();
  }

  /** Advance the virtual clock tick by tick: at most `maxTicks` ticks and (after the first) `budgetMs` of wall time. Returns the ticks run. */
  pump(maxTicks: number, budgetMs = Infinity): number {
    const s = this.sched;
    const w0 = performance.now();
    let n = 0;
    while (!this.ended && this.sub && n < maxTicks && (n === 0 || performance.now() - w0 < budgetMs)) {
      // tick k and everything it causes before tick k + 1 (a chunk arriving after its measured latency)
      s.maxFrames = this.until + this.periodMs - 1e-6;
      s.flush();
      this.until += this.periodMs;
      n++;
    }
    return n;
  }

  /** Ticks run so far. */
  get ticks(): number {
    return Math.round(this.until / this.periodMs);
  }

  /** Whether the run has started and not ended. */
  get running(): boolean {
    return !this.ended && this.sub !== null;
  }

  /** End the run (the hooks hear "stopped"). */
  stop(): void {
    this.finish("stopped");
  }

  private finish(why: "terminated" | "limit" | "stopped" | "fault"): void {
    if (this.ended) return;
    this.ended = true;
    this.sub?.unsubscribe();
    this.hooks.onEnd?.(why);
  }
}
