/**
 * The ONNX export by tracing: Ops (src/nn/ops.ts) on symbolic values that emit ONNX nodes into a GraphBuilder, so
 * a policy's graphs come from the same forward code that trains on tfjs. A parameter becomes an initializer holding
 * the checkpoint's weights; constants (parameters included) fold at trace time where a layout changes (slices,
 * reshapes, convolution weights), and a transpose that undoes the previous one is dropped. traceGraph runs one
 * GraphDef of a policy's registration over a model built without tensors (Module.withoutTensors): the export needs
 * no tfjs backend.
 */
import type * as tf from "@tensorflow/tfjs";
import { convPad, type Ops, type Activation, type Levels, type Padding } from "../nn/ops.ts";
import type { GraphDef, ValueSpec, DType, PolicyModel, Weights } from "../policies/registry.ts";
import { ScdError } from "../errors.ts";
import { GraphBuilder } from "./onnx-graph.ts";

/** A traced value: its graph name and rank, or a constant's data (an initializer once used). */
export class Sym {
  constructor(readonly name: string, readonly rank: number, readonly dtype: DType | "bool" = "float32", readonly data?: Float32Array, readonly dims?: number[], readonly param?: string, readonly undo?: { perm: number[]; x: Sym }) {}
}

const INT_MAX = 2147483647;
const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** A constant's data with its axes permuted. */
function permute(data: Float32Array, dims: number[], perm: number[]): Float32Array {
  const out = new Float32Array(data.length), nd = perm.map((p) => dims[p]);
  const stride = dims.map((_, i) => size(dims.slice(i + 1)));
  const idx = new Array(nd.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < nd.length; i++) src += idx[i] * stride[perm[i]];
    out[o] = data[src];
    for (let i = nd.length - 1; i >= 0 && ++idx[i] === nd[i]; i--) idx[i] = 0;
  }
  return out;
}

export class OnnxOps implements Ops<Sym> {
  /** Initializer name → the parameter it holds (possibly relaid out). */
  readonly paramOf = new Map<string, string>();
  private readonly emitted = new Map<Sym, string>();
  private readonly params = new Map<tf.Variable, Sym>();
  private readonly taken = new Set<string>();

  constructor(readonly g: GraphBuilder, private readonly names: Map<tf.Variable, string>, private readonly weights: Weights) {}

  input(spec: ValueSpec): Sym {
    return new Sym(this.g.input(spec), spec.shape.length, spec.dtype);
  }

  /** x's name in the graph; a constant becomes an initializer on first use. */
  ref(x: Sym | string): string {
    if (typeof x === "string") return x;
    if (!x.data) return x.name;
    let name = this.emitted.get(x);
    if (!name) {
      name = x.name;
      for (let i = 1; this.taken.has(name); i++) name = `${x.name}~${i}`;
      this.taken.add(name);
      this.g.weight(name, x.data, x.dims!);
      if (x.param) this.paramOf.set(name, x.param);
      this.emitted.set(x, name);
    }
    return name;
  }

  private node(op: string, inputs: (Sym | string)[], rank: number, attrs: Record<string, number | number[] | { float: number }> = {}, dtype: Sym["dtype"] = "float32", undo?: Sym["undo"]): Sym {
    return new Sym(this.g.op1(op, inputs.map((x) => this.ref(x)), attrs), rank, dtype, undefined, undefined, undefined, undo);
  }

  private folded(x: Sym, data: Float32Array, dims: number[]): Sym {
    return new Sym(x.name, dims.length, "float32", data, dims, x.param);
  }

  private ints(v: number[], dims: number[] = [v.length]): string {
    return this.g.const("int64", v, dims);
  }

  private num(v: Sym | number): Sym | string {
    return typeof v === "number" ? this.g.scalar(v) : v;
  }

  param(v: tf.Variable): Sym {
    let s = this.params.get(v);
    if (!s) {
      const name = this.names.get(v);
      if (!name) throw new Error("traced a variable that is not a parameter of the exported model");
      this.params.set(v, (s = new Sym(name, v.shape.length, "float32", this.weights[name], v.shape, name)));
    }
    return s; // one initializer however often the code reads it
  }

  constant(data: ArrayLike<number>, shape: number[]): Sym {
    return new Sym(this.g.fresh("const"), shape.length, "float32", Float32Array.from(data), shape);
  }

  linear(x: Sym, w: Sym, b: Sym | null, activation: Activation = "linear"): Sym {
    let y = this.node("MatMul", [x, w], x.rank);
    if (b) y = this.node("Add", [y, b], x.rank);
    return activation === "relu" ? this.node("Relu", [y], y.rank) : activation === "sigmoid" ? this.node("Sigmoid", [y], y.rank) : y;
  }

  matmul(a: Sym, b: Sym, transposeB = false): Sym {
    const r = b.rank, bt = transposeB ? this.transpose(b, [...Array(r - 2).keys(), r - 1, r - 2]) : b;
    return this.node("MatMul", [a, bt], Math.max(a.rank, b.rank));
  }

  headSplit(x: Sym, w: Sym, b: Sym, parts: number, heads: number): Sym[] {
    const D = w.dims![0];
    const y = this.node("Reshape", [this.linear(x, w, b), this.ints([0, 0, parts, heads, D / heads])], 5); // [B, S, parts, heads, dh]
    const t = this.node("Transpose", [y], 5, { perm: [2, 0, 3, 1, 4] }); // [parts, B, heads, S, dh]
    return Array.from({ length: parts }, (_, i) => this.node("Gather", [t, this.ints([i], [])], 4, { axis: 0 }));
  }

  add = (a: Sym, b: Sym | number) => this.node("Add", [a, this.num(b)], Math.max(a.rank, typeof b === "number" ? 0 : b.rank));
  sub = (a: Sym, b: Sym | number) => this.node("Sub", [a, this.num(b)], Math.max(a.rank, typeof b === "number" ? 0 : b.rank));
  mul = (a: Sym, b: Sym | number) => this.node("Mul", [a, this.num(b)], Math.max(a.rank, typeof b === "number" ? 0 : b.rank));
  relu = (x: Sym) => this.node("Relu", [x], x.rank);
  sigmoid = (x: Sym) => this.node("Sigmoid", [x], x.rank);
  tanh = (x: Sym) => this.node("Tanh", [x], x.rank);
  softplus = (x: Sym) => this.node("Softplus", [x], x.rank);
  softmax = (x: Sym) => this.node("Softmax", [x], x.rank, { axis: -1 });

  clip(x: Sym, lo: number, hi: number): Sym {
    const c = this.node("Clip", [x, this.g.scalar(lo), this.g.scalar(hi)], x.rank);
    const finite = this.node("Equal", [this.node("Sub", [x, x], x.rank), this.g.scalar(0)], x.rank, {}, "bool"); // x − x is NaN for ±∞ and NaN
    return this.node("Where", [finite, c, this.g.scalar(NaN)], x.rank);
  }

  layerNorm(x: Sym, g: Sym, b: Sym, eps: number): Sym {
    return this.node("LayerNormalization", [x, g, b], x.rank, { axis: -1, epsilon: { float: eps } });
  }

  /** Channels first for InstanceNormalization over the groups, the affine, and back to channels last. */
  groupNorm(x: Sym, g: Sym, b: Sym, groups: number, eps: number): Sym {
    const C = g.dims![0], xt = this.transpose(x, [0, 2, 1]); // [N, C, T]
    const xg = this.node("Reshape", [xt, this.ints([0, groups, -1])], 3);
    const n = this.node("InstanceNormalization", [xg, this.g.const("float32", new Array(groups).fill(1)), this.g.const("float32", new Array(groups).fill(0))], 3, { epsilon: { float: eps } });
    const y = this.node("Reshape", [n, this.node("Shape", [xt], 1, {}, "int64")], 3);
    return this.transpose(this.add(this.mul(y, this.reshape(g, [C, 1])), this.reshape(b, [C, 1])), [0, 2, 1]);
  }

  reshape(x: Sym, shape: number[]): Sym {
    if (x.data && shape.every((d) => d > 0)) return this.folded(x, x.data, shape);
    return this.node("Reshape", [x, this.ints(shape)], shape.length);
  }

  transpose(x: Sym, perm: number[]): Sym {
    if (x.data) return this.folded(x, permute(x.data, x.dims!, perm), perm.map((p) => x.dims![p]));
    if (x.undo && x.undo.perm.every((p, i) => perm[p] === i)) return x.undo.x; // undoes the transpose that made x
    return this.node("Transpose", [x], x.rank, { perm }, "float32", { perm, x });
  }

  concat = (xs: Sym[], axis: number) => this.node("Concat", xs, xs[0].rank, { axis });

  slice(x: Sym, axis: number, start: number, end: number): Sym {
    if (!x.data) return this.node("Slice", [x, this.ints([start]), this.ints([end]), this.ints([axis])], x.rank);
    const dims = x.dims!, n = dims[axis], s = start < 0 ? n + start : start, e = end < 0 ? n + end : Math.min(end, n);
    const outer = size(dims.slice(0, axis)), inner = size(dims.slice(axis + 1)), out = new Float32Array(outer * (e - s) * inner);
    for (let i = 0; i < outer; i++) out.set(x.data.subarray((i * n + s) * inner, (i * n + e) * inner), i * (e - s) * inner);
    return this.folded(x, out, dims.map((d, i) => (i === axis ? e - s : d)));
  }

  last(x: Sym, axis: number, n: number): Sym {
    return this.node("Slice", [x, this.ints([n > 0 ? -n : INT_MAX]), this.ints([INT_MAX]), this.ints([axis])], x.rank);
  }

  expandDims(x: Sym, axis: number): Sym {
    if (x.data) return this.folded(x, x.data, [...x.dims!.slice(0, axis), 1, ...x.dims!.slice(axis)]);
    return this.node("Unsqueeze", [x, this.ints([axis])], x.rank + 1);
  }

  squeeze = (x: Sym, axis: number) => this.node("Squeeze", [x, this.ints([axis])], x.rank - 1);

  /** ONNX Conv on channels first, the weight relaid out from tap-major [k·cIn, cOut] to [cOut, cIn, k]. */
  conv1d(x: Sym, w: Sym, b: Sym, k: number, stride: number, pad: number): Sym {
    if (k === 1 && stride === 1 && pad === 0) return this.linear(x, w, b);
    const [rows, cOut] = w.dims!, cIn = rows / k;
    const W = this.folded(w, permute(w.data!, [k, cIn, cOut], [2, 1, 0]), [cOut, cIn, k]);
    const y = this.node("Conv", [this.transpose(x, [0, 2, 1]), W, b], 3, { kernel_shape: [k], strides: [stride], pads: [pad, pad] });
    return this.transpose(y, [0, 2, 1]);
  }

  /** ONNX ConvTranspose on channels first, the weight relaid out from [4, cIn, cOut] to [cIn, cOut, 4]. */
  convTranspose1d(x: Sym, w: Sym, b: Sym): Sym {
    const [k, cIn, cOut] = w.dims!;
    const W = this.folded(w, permute(w.data!, [k, cIn, cOut], [1, 2, 0]), [cIn, cOut, k]);
    const y = this.node("ConvTranspose", [this.transpose(x, [0, 2, 1]), W, b], 3, { kernel_shape: [k], strides: [2], pads: [1, 1] });
    return this.transpose(y, [0, 2, 1]);
  }

  /** ONNX Conv on channels first, the weight relaid out from [k, k, cIn, cOut] to [cOut, cIn, k, k]; explicit symmetric pads. */
  conv2d(x: Sym, w: Sym, b: Sym | null, stride: number, padding: Padding): Sym {
    if (!w.data) throw new Error("conv2d (ONNX export): the weight must be a parameter or constant (its layout is folded at trace time)");
    const [kh, kw, cIn, cOut] = w.dims!, pad = convPad(kh, padding);
    const W = this.folded(w, permute(w.data, w.dims!, [3, 2, 0, 1]), [cOut, cIn, kh, kw]);
    const y = this.node("Conv", [this.transpose(x, [0, 3, 1, 2]), W, ...(b ? [b] : [])], 4, { kernel_shape: [kh, kw], strides: [stride, stride], pads: [pad, pad, pad, pad] });
    return this.transpose(y, [0, 2, 3, 1]);
  }

  /**
   * Channels first; per group the mean and variance (two passes) as means over columns, then over the rest; the
   * affine per channel; back to channels last. Not InstanceNormalization: on ORT 1.30 it is ~1e-4 off where a map is
   * nearly constant (the white floor of a Push-T frame: 7.8e-5 against a float64 reference at the stem, 3.2e-6 here).
   */
  groupNorm2d(x: Sym, g: Sym, b: Sym, groups: number, eps: number): Sym {
    const C = g.dims![0], xt = this.transpose(x, [0, 3, 1, 2]); // [N, C, H, W]
    const xg = this.node("Reshape", [xt, this.ints([0, groups, -1, 0])], 4); // [N, G, (C/G)·H, W]
    const mean = (t: Sym) => this.node("ReduceMean", [this.node("ReduceMean", [t], 4, { axes: [3], keepdims: 1 })], 4, { axes: [2], keepdims: 1 }); // [N, G, 1, 1]
    const xc = this.sub(xg, mean(xg));
    const n = this.node("Div", [xc, this.node("Sqrt", [this.add(mean(this.mul(xc, xc)), eps)], 4)], 4);
    const y = this.node("Reshape", [n, this.node("Shape", [xt], 1, {}, "int64")], 4);
    return this.transpose(this.add(this.mul(y, this.reshape(g, [C, 1, 1])), this.reshape(b, [C, 1, 1])), [0, 2, 3, 1]);
  }

  /** Softmax over H·W per channel; the marginals over rows and columns · linspace(−1, 1) built from the input's shape. */
  spatialSoftmax(x: Sym): Sym {
    const xt = this.transpose(x, [0, 3, 1, 2]), shape = this.node("Shape", [xt], 1, {}, "int64"); // [N, C, H, W]
    const a = this.node("Reshape", [this.node("Softmax", [this.node("Reshape", [xt, this.ints([0, 0, -1])], 3)], 3, { axis: -1 }), shape], 4);
    const expected = (axis: number, sumOver: number) => {
      const n = this.node("Gather", [shape, this.ints([axis], [])], 0, { axis: 0 }, "int64"); // W (axis 3) or H (axis 2)
      const i = this.node("Cast", [this.node("Range", [this.ints([0], []), n, this.ints([1], [])], 1, {}, "int64")], 1, { to: 1 });
      const step = this.node("Div", [this.g.scalar(2), this.node("Sub", [this.node("Cast", [n], 0, { to: 1 }), this.g.scalar(1)], 0)], 0);
      const pos = this.node("Unsqueeze", [this.sub(this.mul(i, step), 1), this.ints([1])], 2); // [n, 1]: −1 … 1
      const marginal = this.node("ReduceSum", [a, this.ints([sumOver])], 3, { keepdims: 0 }); // [N, C, n]
      return this.node("MatMul", [marginal, pos], 3); // [N, C, 1]
    };
    return this.node("Reshape", [this.concat([expected(3, 2), expected(2, 3)], 2), this.ints([0, -1])], 2); // [N, 2C]
  }

  /** In float64 inside the graph, as JavaScript computes it: arguments reach 1000 rad, where float32 would lose ~1e-4. */
  sinusoid(levels: Levels<Sym>, freqs: number[], scale: number, round = false): Sym {
    const half = freqs.length;
    if (!(levels instanceof Sym)) {
      const out = new Float32Array(levels.length * 2 * half);
      for (let n = 0; n < levels.length; n++) {
        const u = round ? Math.round(levels[n] * scale) : levels[n] * scale;
        freqs.forEach((f, i) => ((out[n * 2 * half + i] = Math.sin(f * u)), (out[n * 2 * half + half + i] = Math.cos(f * u))));
      }
      return this.constant(out, [levels.length, 2 * half]);
    }
    let u = this.node("Mul", [levels, this.g.const("float64", [scale], [])], 1, {}, "float64");
    if (round) u = this.node("Round", [u], 1, {}, "float64");
    const arg = this.node("Mul", [this.node("Unsqueeze", [u, this.ints([1])], 2, {}, "float64"), this.g.const("float64", freqs, [1, half])], 2, {}, "float64"); // [N, half]
    const sc = this.node("Concat", [this.node("Sin", [arg], 2, {}, "float64"), this.node("Cos", [arg], 2, {}, "float64")], 2, { axis: 1 }, "float64");
    return this.node("Cast", [sc], 2, { to: 1 });
  }

  alibi(keys: Sym, axis: number, slopes: number[], extra: number): Sym {
    const n = this.node("Gather", [this.node("Shape", [keys], 1, {}, "int64"), this.ints([axis], [])], 0, { axis: 0 }, "int64");
    const start = extra === 1 ? n : this.node("Add", [n, this.ints([extra - 1], [])], 0, {}, "int64");
    const dist = this.node("Range", [start, this.ints([-1], []), this.ints([-1], [])], 1, {}, "int64"); // n + extra − 1 … 0
    const d = this.node("Reshape", [this.node("Cast", [dist], 1, { to: 1 }), this.ints([1, 1, 1, -1])], 4);
    return this.node("Mul", [d, this.g.const("float32", slopes.map((s) => -s), [1, slopes.length, 1, 1])], 4);
  }
}

/**
 * Trace one graph of a policy's registration over `model`, its parameters as initializers holding `weights`
 * (by the parameters' dotted names). Returns the builder (pruned to what the outputs need) and the parameters read.
 */
export function traceGraph(name: string, def: GraphDef, model: PolicyModel, weights: Weights): { builder: GraphBuilder; params: string[] } {
  const g = new GraphBuilder(name);
  const o = new OnnxOps(g, new Map([...model.parameters()].map(([k, v]) => [v, k])), weights);
  const out = def.trace(model, o, Object.fromEntries(def.inputs.map((s) => [s.name, o.input(s)])));
  const extra = Object.keys(out).filter((k) => !def.outputs.some((s) => s.name === k));
  if (extra.length) throw new Error(`${name}: traced output(s) ${extra.join(", ")} are not declared`);
  for (const s of def.outputs) {
    const v = out[s.name];
    if (!v) throw new Error(`${name}: declared output "${s.name}" was not traced`);
    if (v.rank !== s.shape.length || v.dtype !== s.dtype) throw new Error(`${name}: output "${s.name}" traced as ${v.dtype} of rank ${v.rank}, declared ${s.dtype} [${s.shape}]`);
    g.output(o.ref(v), s);
  }
  g.prune();
  return { builder: g, params: [...new Set(g.initializerNames.flatMap((n) => o.paramOf.get(n) ?? []))] };
}

/** A checkpoint's weights against a model's parameters (names, sizes, finite values), as loading them into tfjs checks. */
export function checkWeights(params: Map<string, tf.Variable>, w: Weights, where: string): void {
  for (const [k, p] of params) {
    const a = w[k];
    if (!a) throw new ScdError(`${where}: weights have no "${k}" (architecture differs from the config?)`);
    if (a.length !== p.size) throw new ScdError(`${where}: "${k}" has ${a.length} values, the model expects ${p.size} (shape [${p.shape}])`);
    if (!a.every(Number.isFinite)) throw new ScdError(`${where}: "${k}" contains a non-finite value`);
  }
  const extra = Object.keys(w).filter((k) => !params.has(k));
  if (extra.length) throw new ScdError(`${where}: weights have unknown parameters: ${extra.slice(0, 3).join(", ")}`);
}
