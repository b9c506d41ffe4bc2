/**
 * Minimal module system: a Module owns named tf.Variables and child modules; `parameters()` flattens them to
 * dotted names for optimizers, checkpoints and the ONNX export. Init is from a seeded Rng so weights match across
 * backends. Modules compute through `apply(o, …)` on any Ops (ops.ts): tfjs tensors, or traced ONNX values;
 * `forward(…)` is the same on tfjs tensors.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";
import type { Ops, Activation } from "./ops.ts";
import { tfOps } from "./tf-ops.ts";

let shapesOnly = false;

export abstract class Module {
  private readonly params = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Module>();

  /**
   * Build a module tree whose parameters are shapes only: no tensor and no tfjs backend. Enough to run its code on
   * other Ops (the ONNX export traces it, the parameters' values coming from a checkpoint); not for tfjs.
   */
  static withoutTensors<M>(make: () => M): M {
    shapesOnly = true;
    try {
      return make();
    } finally {
      shapesOnly = false;
    }
  }

  protected param(name: string, shape: number[], init: Float32Array): tf.Variable {
    if (shapesOnly) {
      const v = { name, shape, size: init.length, dtype: "float32", dispose() {} } as unknown as tf.Variable;
      this.params.set(name, v);
      return v;
    }
    const t = tf.tensor(init, shape);
    const v = tf.variable(t, true); // shares t's data; t itself must go, or every model leaks one tensor per parameter
    t.dispose();
    this.params.set(name, v);
    return v;
  }
  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }
  parameters(prefix = ""): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [k, v] of this.params) out.set(prefix + k, v);
    for (const [k, c] of this.children) for (const [kk, v] of c.parameters(`${prefix}${k}.`)) out.set(kk, v);
    return out;
  }
  numParams(): number {
    let n = 0;
    for (const v of this.parameters().values()) n += v.size;
    return n;
  }
  dispose(): void {
    for (const v of this.parameters().values()) v.dispose();
  }
}

export function xavier(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  return rng.normals(fanIn * fanOut, Math.sqrt(2 / (fanIn + fanOut)));
}

/**
 * GroupNorm (Wu & He 2018), eps 1e-5 as PyTorch: statistics per item over the spatial axes and the channels of a
 * group. rank 1: x [N, T, C] (Diffusion Policy's Conv1d blocks); rank 2: x [N, H, W, C] (image encoders). Output
 * has x's shape; scale g and shift b are [C].
 */
export class GroupNorm extends Module {
  readonly g: tf.Variable;
  readonly b: tf.Variable;
  constructor(readonly groups: number, readonly C: number, readonly rank: 1 | 2 = 1) {
    super();
    this.g = this.param("g", [C], new Float32Array(C).fill(1));
    this.b = this.param("b", [C], new Float32Array(C));
  }
  apply<T>(o: Ops<T>, x: T): T {
    const g = o.param(this.g), b = o.param(this.b);
    return this.rank === 2 ? o.groupNorm2d(x, g, b, this.groups, 1e-5) : o.groupNorm(x, g, b, this.groups, 1e-5);
  }
}

/** y = x W + b over the last axis. */
export class Linear extends Module {
  readonly w: tf.Variable;
  readonly b: tf.Variable | null;
  constructor(rng: Rng, readonly dIn: number, readonly dOut: number, opts: { bias?: boolean; scale?: number } = {}) {
    super();
    const w = xavier(rng, dIn, dOut);
    if (opts.scale !== undefined) for (let i = 0; i < w.length; i++) w[i] *= opts.scale;
    this.w = this.param("w", [dIn, dOut], w);
    this.b = opts.bias === false ? null : this.param("b", [dOut], new Float32Array(dOut));
  }
  apply<T>(o: Ops<T>, x: T, activation: Activation = "linear"): T {
    return o.linear(x, o.param(this.w), this.b ? o.param(this.b) : null, activation);
  }
  forward(x: tf.Tensor, activation: Activation = "linear"): tf.Tensor {
    return this.apply(tfOps, x, activation);
  }
}

export class LayerNorm extends Module {
  readonly g: tf.Variable;
  readonly b: tf.Variable;
  constructor(readonly d: number, readonly eps = 1e-5) {
    super();
    this.g = this.param("g", [d], new Float32Array(d).fill(1));
    this.b = this.param("b", [d], new Float32Array(d));
  }
  apply<T>(o: Ops<T>, x: T): T {
    return o.layerNorm(x, o.param(this.g), o.param(this.b), this.eps);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.apply(tfOps, x);
  }
}

/**
 * GELU in the sigmoid form x·σ(1.702x) (Hendrycks & Gimpel's approximation, within 0.02 of the exact GELU): 3 ops
 * where the tanh form takes 8; op count dominates latency at batch 1.
 */
export function gelu<T>(o: Ops<T>, x: T): T {
  return o.mul(x, o.sigmoid(o.mul(x, 1.702)));
}

/** Mish (Misra 2019): x · tanh(softplus(x)). */
export function mish<T>(o: Ops<T>, x: T): T {
  return o.mul(x, o.tanh(o.softplus(x)));
}

export class Embedding extends Module {
  readonly table: tf.Variable;
  constructor(rng: Rng, readonly n: number, readonly d: number) {
    super();
    this.table = this.param("table", [n, d], rng.normals(n * d, 0.02));
  }
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.gather(this.table, ids.toInt());
  }
}
