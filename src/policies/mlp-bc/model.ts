/**
 * MLP behaviour cloning: the last `history` frame vectors, flattened → hidden layers (ReLU) → H·A actions,
 * trained with MSE. Unimodal by construction: on a task with two ways around an obstacle it averages them.
 * `policy` is the inference network on any Ops: tfjs here, traced to ONNX by the export (export.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { Module, Linear } from "../../nn/module.ts";
import type { Ops } from "../../nn/ops.ts";
import { tfOps } from "../../nn/tf-ops.ts";
import type { PolicyModel } from "../registry.ts";
import type { FrameLayout, WindowTensors } from "../frames.ts";
import { Rng } from "../../util/rng.ts";
import type { MlpBcConfig } from "./config.ts";

export class MlpBcModel extends Module implements PolicyModel {
  readonly layers: Linear[];
  readonly horizon: number;
  readonly actionDim: number;
  readonly window: number;
  readonly positionsPerWindow: number;
  readonly defaultSteps = 1;
  private readonly F: number;
  private recent: Float32Array[] = [];

  constructor(readonly cfg: MlpBcConfig, layout: FrameLayout, seed: number) {
    super();
    const rng = new Rng(seed);
    this.F = layout.frameDim;
    this.horizon = cfg.horizon;
    this.actionDim = layout.actionDim;
    this.window = Math.max(cfg.window, cfg.history);
    this.positionsPerWindow = cfg.positionsPerWindow;
    const sizes = [cfg.history * this.F, ...Array(cfg.layers).fill(cfg.hidden), cfg.horizon * layout.actionDim];
    this.layers = sizes.slice(1).map((n, i) => this.child(`fc${i}`, new Linear(rng, sizes[i], n)));
  }

  lrMult(): number {
    return 1;
  }

  /** The last `history` frames, flattened [N, history·F] → chunk [N, H, A]. */
  mlp<T>(o: Ops<T>, x: T): T {
    let h = x;
    this.layers.forEach((l, i) => (h = l.apply(o, h, i < this.layers.length - 1 ? "relu" : "linear")));
    return o.reshape(h, [-1, this.horizon, this.actionDim]);
  }

  /** The inference network: the MLP's chunk, clipped to the normalized action range. */
  policy<T>(o: Ops<T>, frames: T): T {
    return o.clip(this.mlp(o, frames), -1, 1);
  }

  /** Inputs for P positions per window: the `history` frames ending at each position (zeros before the start). */
  private inputs(b: WindowTensors): Float32Array {
    const K = this.cfg.history, F = this.F, n = b.posIdx.length;
    const x = new Float32Array(n * K * F);
    for (let i = 0; i < n; i++) {
      const flat = b.posIdx[i], bi = Math.floor(flat / b.L), j = flat - bi * b.L;
      for (let k = 0; k < K; k++) {
        const jj = j - (K - 1) + k;
        if (jj >= 0 && b.keyPad[bi * b.L + jj] === 0) x.set(b.frames.subarray((bi * b.L + jj) * F, (bi * b.L + jj + 1) * F), (i * K + k) * F);
      }
    }
    return x;
  }

  loss(b: WindowTensors): tf.Scalar {
    const n = b.posIdx.length;
    return tf.tidy(() => this.mlp(tfOps, tf.tensor(this.inputs(b), [n, this.cfg.history * this.F])).sub(tf.tensor(b.targets, [n, this.horizon, this.actionDim])).square().mean() as tf.Scalar);
  }

  reset(): void {
    this.recent = [];
  }

  observe(frame: tf.Tensor): void {
    this.recent.push(frame.dataSync().slice() as Float32Array);
    if (this.recent.length > this.cfg.history) this.recent.shift();
  }

  sample(): tf.Tensor {
    const B = this.recent[0].length / this.F, K = this.cfg.history;
    return tf.tidy(() => this.policy(tfOps, tf.tensor(stackFrames(this.recent, K, this.F), [B, K * this.F])));
  }
}

/** The MLP's input [B, K·F] from the recent frames (each [B·F], oldest first); missing frames (episode start) stay zero, as in training. */
export function stackFrames(recent: readonly Float32Array[], K: number, F: number): Float32Array {
  const B = recent[0].length / F;
  const x = new Float32Array(B * K * F);
  recent.forEach((f, r) => {
    const k = K - recent.length + r;
    for (let bi = 0; bi < B; bi++) x.set(f.subarray(bi * F, (bi + 1) * F), (bi * K + k) * F);
  });
  return x;
}
