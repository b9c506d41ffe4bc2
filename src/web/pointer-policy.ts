/**
 * A person as a ChunkPolicy (browser-safe): the target follows the pointer, as in Diffusion Policy's Push-T
 * demonstration tool. Horizon 1, so the control loop asks every tick and executes the pointer's latest position;
 * before the first pointer position it holds the agent where it is (`hold(obs)`).
 */
import type { Obs } from "../env/types.ts";
import type { ChunkPolicy, Frame } from "../policy/types.ts";

export class PointerPolicy implements ChunkPolicy {
  readonly name = "pointer";
  readonly horizon = 1;
  private target: Float32Array | null = null;
  private held: Float32Array | null = null;
  constructor(readonly actionDim: number, private readonly hold: (obs: Obs) => Float32Array | null) {}
  /** The pointer's position in action units (for Push-T: the target in env pixels). */
  setTarget(a: ArrayLike<number>): void {
    this.target = Float32Array.from(a);
  }
  reset(): void {
    this.target = null;
    this.held = null;
  }
  observe(frame: Frame): void {
    this.held = this.hold(frame.obs);
  }
  sampleChunk(): Float32Array {
    const a = this.target ?? this.held;
    if (!a || a.length !== this.actionDim) throw new Error("no pointer position yet and nothing to hold");
    return Float32Array.from(a);
  }
}
