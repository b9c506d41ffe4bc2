/**
 * What a control run emits, tick by tick: the vocabulary shared by the control loop (src/loop/loop.ts) that
 * produces these events and the log formats (the record-log registry in formats.ts, MCAP) that write them. Kept with
 * the data formats so that a log format needs nothing from the loop.
 */
/** Where an action came from: the policy's plan, the safe fallback, or the final safe action on teardown. */
export type ActionSource = "policy" | "fallback" | "final";
/** What the loop emits: each action sent, each inference (its time and chunk), each deadline miss and each error. */
export type LoopEvent =
  | { type: "action"; tick: number; t: number; scheduledT: number; tickT: number; action: Float32Array; source: ActionSource; queueDepth: number; chunk?: number } // chunk: the request tick of the chunk a policy action came from
  | { type: "inference"; tick: number; t: number; ms: number; chunk?: Float32Array } // chunk: the prediction [H·A], for logs
  | { type: "miss"; tick: number; t: number; reason: string }
  | { type: "error"; tick: number; t: number; reason: string };
