/**
 * Who drives the page and in which phase, as one small state machine, so the take-over button, the pause button,
 * the recording indicator and the status line can never disagree: every change of control goes through
 * `next(state, event)`, and the page draws the buttons from `view(state)` alone.
 */

export type Mode = "policy" | "human" | "replay";
export type Phase = "running" | "paused" | "ended";

export interface ControlState {
  mode: Mode;
  phase: Phase;
  /** a person's episode is being recorded */
  recording: boolean;
}

export type ControlEvent =
  | { type: "policy" } // Reset, or a controller / K / strategy / runtime change: the policy drives
  | { type: "takeOver"; record: boolean } // the button or a press on the arena
  | { type: "handBack" } // the person gives control back: the policy drives on from here
  | { type: "replay" }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "end" } // the episode ended by itself (success, step limit, end of a replay)
  | { type: "keep" } // End & keep: the person's episode ends now and is kept
  | { type: "discard" }; // Discard: the person's episode ends now and is dropped

export const INITIAL: ControlState = { mode: "policy", phase: "running", recording: false };

/**
 * The state after `e`, and whether the episode must start afresh (`fresh`: an ended episode cannot go on; the step
 * counter and the step limit start again from 0).
 */
export function next(s: ControlState, e: ControlEvent): { state: ControlState; fresh: boolean } {
  const ended = s.phase === "ended";
  switch (e.type) {
    case "policy":
      return { state: { mode: "policy", phase: "running", recording: false }, fresh: true };
    case "takeOver":
      // taking over always moves: a paused episode resumes, an ended one starts afresh
      return { state: { mode: "human", phase: "running", recording: e.record }, fresh: ended };
    case "handBack":
      return { state: { mode: "policy", phase: "running", recording: false }, fresh: ended };
    case "replay":
      return { state: { mode: "replay", phase: "running", recording: false }, fresh: true };
    case "pause":
      return { state: ended ? s : { ...s, phase: "paused" }, fresh: false };
    case "resume":
      return { state: ended ? s : { ...s, phase: "running" }, fresh: false };
    case "end":
    case "keep":
    case "discard":
      return { state: { ...s, phase: "ended", recording: false }, fresh: false };
  }
}

/** What the controls show for a state. */
export interface ControlView {
  takeoverLabel: "Take over" | "Hand back";
  pauseLabel: "Pause" | "Resume";
  pauseDisabled: boolean;
  stepDisabled: boolean;
  /** End & keep and Discard act on a recording in progress */
  recordingButtons: boolean;
  who: string;
  /** the inference readouts mean something only while a policy drives */
  policyReadouts: boolean;
}

export function view(s: ControlState, policyName: string): ControlView {
  const human = s.mode === "human" && s.phase !== "ended";
  return {
    takeoverLabel: human ? "Hand back" : "Take over",
    pauseLabel: s.phase === "paused" ? "Resume" : "Pause",
    pauseDisabled: s.phase === "ended",
    stepDisabled: s.phase !== "paused",
    recordingButtons: s.recording,
    who: s.mode === "policy" ? policyName : s.mode === "human" ? (s.phase === "ended" ? "you (episode over)" : "you (pointer)") : "replay",
    policyReadouts: s.mode === "policy",
  };
}
