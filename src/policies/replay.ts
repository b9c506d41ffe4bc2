/**
 * `replay`: executes a dataset episode's recorded actions in order (episode = the reset seed, since Push-T
 * demonstration k was recorded from reset(seed = k)). Open loop; holds the last action when the episode runs out.
 */
import { ScdError } from "../errors.ts";
import type { EpisodeBuffer } from "../datasets/episodes.ts";
import type { ChunkPolicy } from "./types.ts";

export class ReplayPolicy implements ChunkPolicy {
  readonly name = "replay";
  readonly horizon = 1;
  readonly actionDim: number;
  private actions = new Float32Array(0);
  private frame = -1;
  constructor(readonly data: EpisodeBuffer, readonly feature = "action") {
    const spec = data.schema[feature];
    if (!spec) throw new ScdError(`replay policy: the dataset has no "${feature}" feature`);
    this.actionDim = spec.shape.reduce((a, b) => a * b, 1);
  }
  reset(seed = 0): void {
    const n = this.data.episodeEnds.length;
    if (!(seed >= 0 && seed < n)) throw new ScdError(`replay policy: seed ${seed} names no episode (the dataset has episodes 0..${n - 1})`);
    const s = seed ? this.data.episodeEnds[seed - 1] : 0, e = this.data.episodeEnds[seed];
    this.actions = Float32Array.from(this.data.data[this.feature].subarray(s * this.actionDim, e * this.actionDim));
    this.frame = -1;
  }
  observe(): void {
    this.frame++;
  }
  sampleChunk(): Float32Array {
    const n = this.actions.length / this.actionDim;
    const i = Math.min(Math.max(this.frame, 0), n - 1);
    return this.actions.slice(i * this.actionDim, (i + 1) * this.actionDim);
  }
  /** Length of the current episode (the loop can stop after it). */
  get length(): number {
    return this.actions.length / this.actionDim;
  }
}
