/**
 * A person as a ChunkPolicy (browser-safe): the target follows the pointer, as in Diffusion Policy's Push-T
 * demonstration tool. Horizon 1, so the control loop asks every tick and executes the action made from the
 * pointer's latest position (in env coordinates) and the latest observation by `toAction` (Push-T: the pointer
 * is the agent's target, or hold the agent where it is before the first pointer event; reach: a velocity
 * towards the pointer).
 */
import type { Obs } from "../envs/types.ts";
import type { ChunkPolicy, Frame } from "../policies/types.ts";

/** Makes the action from the pointer's position in env coordinates (null before the first pointer event) and the latest observation. */
export type PointerToAction = (pointer: Float32Array | null, obs: Obs) => Float32Array;

/** A person as a {@link ChunkPolicy}: the action follows the pointer (take-over in the page), one action per chunk. */
export class PointerPolicy implements ChunkPolicy {
  readonly name = "pointer";
  readonly horizon = 1;
  private pointer: Float32Array | null = null;
  private obs: Obs | null = null;
  constructor(readonly actionDim: number, private readonly toAction: PointerToAction) {}
  /** The pointer's position in env coordinates (null: released). */
  setPointer(p: ArrayLike<number> | null): void {
    this.pointer = p ? Float32Array.from(p) : null;
  }
  reset(): void {
    this.obs = null;
  }
  observe(frame: Frame): void {
    this.obs = frame.obs;
  }
  sampleChunk(): Float32Array {
    if (!this.obs) throw new Error("pointer policy: no observation yet");
    const a = this.toAction(this.pointer, this.obs);
    if (a.length !== this.actionDim) throw new Error(`pointer policy: action has ${a.length} values, the env takes ${this.actionDim}`);
    return a;
  }
}
