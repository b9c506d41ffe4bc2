/**
 * The page's shared state and its small helpers: what runs (env, policy, loop, recorder), who drives
 * (control.ts's state machine, moved only by go()), the status line and error display.
 */
import type { ChunkPolicy } from "../../src/policies/types.ts";
import type { LiveEnv } from "../../src/web/live-env.ts";
import type { LiveRun } from "../../src/web/live-loop.ts";
import { LoopStats } from "../../src/web/stats.ts";
import type { PointerPolicy } from "../../src/web/pointer-policy.ts";
import type { Recorder } from "../../src/web/recorder.ts";
import type { Task } from "./tasks.ts";
import type { Runtimes } from "./runtimes.ts";
import type { PageTraining } from "./training.ts";
import type { ReplayUi } from "./replay-ui.ts";
import { InputError } from "./inputs.ts";
import { INITIAL, next, view, type ControlEvent, type ControlState } from "./control.ts";

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** Everything the page's modules share; one object, so each module reads the current value. */
export const S = {
  env: null as unknown as LiveEnv,
  task: null as unknown as Task,
  recorder: null as unknown as Recorder,
  pointer: null as unknown as PointerPolicy,
  replayUi: null as unknown as ReplayUi,
  runtimes: null as unknown as Runtimes,
  training: null as unknown as PageTraining,
  /** controller name → a new policy of it */
  auto: {} as Record<string, () => ChunkPolicy>,
  /** the policy of the current run (disposed when replaced) */
  active: null as ChunkPolicy | null,
  run: null as LiveRun | null,
  ctl: INITIAL as ControlState,
  maxSteps: 300,
  stats: new LoopStats(),
  paths: [] as [number, number][][],
  wallStart: 0,
  ticksAtStart: 0,
  drawnStep: -1,
  idleTimer: 0,
  releasedAt: -1,
  /** wall times of executed steps (last second) */
  rate: [] as number[],
};

export const status = (s: string) => {
  $("status").textContent = s;
  $("status").classList.remove("error");
};

export function fail(e: unknown): void {
  $("status").textContent = `error: ${(e as Error)?.message ?? e}`;
  $("status").classList.add("error");
  if (!(e instanceof InputError)) console.error(e); // a bad value typed into a box is the user's to fix, not a page error
}

/** `fn` as an event handler: an error (a bad box value, say) goes to the status line instead of escaping. */
export const guard = (fn: () => unknown) => () => {
  try {
    fn();
  } catch (e) {
    fail(e);
  }
};

export const policyName = () => $<HTMLSelectElement>("controller").selectedOptions[0]?.text ?? "policy";

/** Move the state machine by `e` (none: redraw) and draw the controls from the new state; returns whether the episode must start afresh. */
export function go(e?: ControlEvent): boolean {
  const r = e ? next(S.ctl, e) : { state: S.ctl, fresh: false };
  S.ctl = r.state;
  const v = view(S.ctl, policyName());
  $("takeover").textContent = v.takeoverLabel;
  $("takeover").classList.toggle("active", v.takeoverLabel === "Hand back");
  $("pause").textContent = v.pauseLabel;
  $<HTMLButtonElement>("pause").disabled = v.pauseDisabled;
  $<HTMLButtonElement>("step").disabled = v.stepDisabled;
  $<HTMLButtonElement>("keep").disabled = !v.recordingButtons;
  $<HTMLButtonElement>("discard").disabled = !v.recordingButtons && !S.recorder?.episodes.length;
  $("discard").textContent = v.recordingButtons || !S.recorder?.episodes.length ? "Discard" : "Discard last";
  $("who").textContent = S.ctl.mode === "replay" ? $("who").textContent || "replay" : v.who;
  $("rec-badge").hidden = !S.ctl.recording;
  S.wallStart = performance.now(); // a paused or restarted clock never catches up in a burst
  S.ticksAtStart = S.run?.ticks ?? 0;
  return r.fresh;
}
