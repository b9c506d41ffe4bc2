/**
 * The transformer pieces of src/nn as ONNX subgraphs, built from checkpoint weights by name (the same dotted
 * names `Module.parameters()` writes): Linear (x W + b), LayerNorm, the sigmoid GELU, pre-LN blocks with
 * multi-head attention over optional cached keys/values and an additive bias, and the sinusoidal level embedding.
 * The math follows src/nn/transformer.ts and module.ts op for op; weights are read, never the tfjs modules, so
 * refactors of those classes that keep the math and the names keep the export valid.
 */
import { ScdError } from "../errors.ts";
import type { Weights } from "../checkpoints/checkpoint.ts";
import { GraphBuilder } from "./onnx-graph.ts";

/** Weights by name with shape checks; errors name the checkpoint file and the parameter. */
export class WeightReader {
  private readonly used = new Set<string>();
  constructor(readonly w: Weights, readonly where: string) {}
  get(name: string, dims: number[]): Float32Array {
    const a = this.w[name];
    this.used.add(name);
    if (!a) throw new ScdError(`${this.where}: weights have no "${name}" (architecture differs from the config?)`);
    const size = dims.reduce((x, y) => x * y, 1);
    if (a.length !== size) throw new ScdError(`${this.where}: "${name}" has ${a.length} values, the config implies shape [${dims}] (${size})`);
    return a;
  }
  /** Weights the graphs did not read mean an architecture the exporter does not know: refuse, never drop them. */
  checkAllUsed(): void {
    const extra = Object.keys(this.w).filter((k) => !this.used.has(k));
    if (extra.length) throw new ScdError(`${this.where}: the ONNX export does not use parameter(s) ${extra.slice(0, 3).join(", ")}${extra.length > 3 ? ` (+${extra.length - 3} more)` : ""}; this architecture variant has no exporter yet`);
  }
  /** Rows [r0, r0 + n) of a [rows, cols] matrix, or of a vector when cols = 1. */
  rows(name: string, dims: number[], r0: number, n: number): Float32Array {
    const cols = dims.length > 1 ? dims[1] : 1;
    return this.get(name, dims).slice(r0 * cols, (r0 + n) * cols);
  }
}

export interface Ctx {
  g: GraphBuilder;
  w: WeightReader;
}

/** A graph named `name`, built by `f` over the checkpoint's weights. */
export function buildGraph(name: string, w: WeightReader, f: (c: Ctx) => void): GraphBuilder {
  const g = new GraphBuilder(name);
  f({ g, w });
  return g;
}

/** y = x W + b over the last axis; W [dIn, dOut]. */
export function linear({ g, w }: Ctx, x: string, name: string, dIn: number, dOut: number, activation: "linear" | "relu" = "linear"): string {
  const y = g.op1("Add", [g.op1("MatMul", [x, g.weight(`${name}.w`, w.get(`${name}.w`, [dIn, dOut]), [dIn, dOut])]), g.weight(`${name}.b`, w.get(`${name}.b`, [dOut]), [dOut])]);
  return activation === "relu" ? g.op1("Relu", [y]) : y;
}

export function layerNorm({ g, w }: Ctx, x: string, name: string, d: number, eps = 1e-5): string {
  return g.op1("LayerNormalization", [x, g.weight(`${name}.g`, w.get(`${name}.g`, [d]), [d]), g.weight(`${name}.b`, w.get(`${name}.b`, [d]), [d])], { axis: -1, epsilon: { float: eps } });
}

/** x·σ(1.702x), as src/nn/module.ts. */
export function gelu({ g }: Ctx, x: string): string {
  return g.op1("Mul", [x, g.op1("Sigmoid", [g.op1("Mul", [x, g.scalar(1.702)])])]);
}

export interface KVNames {
  k: string; // [B, heads, S, dh]
  v: string;
}

/**
 * Multi-head attention (src/nn/transformer.ts Attention): x [B, T, d] → [B, T, d]; keys/values of this call are
 * concatenated after `past` (when given); `bias` is added to the scores [B, heads, T, S]. Returns the keys/values.
 */
export function attention(c: Ctx, x: string, name: string, d: number, heads: number, bias: string | null, past: KVNames | null): { y: string; kv: KVNames } {
  const { g } = c;
  const dh = d / heads;
  const qkv = linear(c, x, `${name}.qkv`, d, 3 * d); // [B, T, 3d], columns ordered (3, heads, dh)
  const split = g.op1("Transpose", [g.op1("Reshape", [qkv, g.const("int64", [0, 0, 3, heads, dh])])], { perm: [2, 0, 3, 1, 4] }); // [3, B, h, T, dh]
  const [q, k0, v0] = [0, 1, 2].map((i) => g.op1("Gather", [split, g.const("int64", [i], [])], { axis: 0 }));
  const k = past ? g.op1("Concat", [past.k, k0], { axis: 2 }) : k0;
  const v = past ? g.op1("Concat", [past.v, v0], { axis: 2 }) : v0;
  let att = g.op1("Mul", [g.op1("MatMul", [q, g.op1("Transpose", [k], { perm: [0, 1, 3, 2] })]), g.scalar(1 / Math.sqrt(dh))]); // [B, h, T, S]
  if (bias) att = g.op1("Add", [att, bias]);
  const y = g.op1("Reshape", [g.op1("Transpose", [g.op1("MatMul", [g.op1("Softmax", [att], { axis: -1 }), v])], { perm: [0, 2, 1, 3] }), g.const("int64", [0, 0, d])]);
  return { y: linear(c, y, `${name}.proj`, d, d), kv: { k, v } };
}

/** Pre-LN block (src/nn/transformer.ts Block). */
export function block(c: Ctx, x: string, name: string, d: number, heads: number, mlpRatio: number, bias: string | null, past: KVNames | null): { y: string; kv: KVNames } {
  const { g } = c;
  const a = attention(c, layerNorm(c, x, `${name}.ln1`, d), `${name}.attn`, d, heads, bias, past);
  const h = g.op1("Add", [x, a.y]);
  const m = linear(c, gelu(c, linear(c, layerNorm(c, h, `${name}.ln2`, d), `${name}.mlp.fc`, d, d * mlpRatio)), `${name}.mlp.out`, d * mlpRatio, d);
  return { y: g.op1("Add", [h, m]), kv: a.kv };
}

/**
 * Sinusoidal level embedding (src/nn/transformer.ts levelEmbedding) of float64 levels [N] → float32 [N, dim].
 * Computed in float64 as the TypeScript original is: arguments reach 1000 rad, where float32 would lose ~1e-4.
 */
export function levelEmbedding({ g }: Ctx, levels: string, dim: number): string {
  const half = dim / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const arg = g.op1("Mul", [g.op1("Mul", [g.op1("Unsqueeze", [levels, g.const("int64", [1])]), g.const("float64", freqs, [1, half])]), g.const("float64", [1000], [])]); // [N, half]
  return g.op1("Cast", [g.op1("Concat", [g.op1("Sin", [arg]), g.op1("Cos", [arg])], { axis: 1 })], { to: 1 });
}

/** −slope_h · distance as an additive bias [1, heads, 1, n] from int64 distances [n]. */
export function alibiBias({ g }: Ctx, distances: string, slopes: number[]): string {
  const dist = g.op1("Reshape", [g.op1("Cast", [distances], { to: 1 }), g.const("int64", [1, 1, 1, -1])]);
  return g.op1("Mul", [dist, g.const("float32", slopes.map((s) => -s), [1, slopes.length, 1, 1])]);
}

/** Length of axis `axis` of x as an int64 scalar. */
export function dimOf({ g }: Ctx, x: string, axis: number): string {
  return g.op1("Gather", [g.op1("Shape", [x]), g.const("int64", [axis], [])], { axis: 0 });
}

/** The last `n` entries along axis 2 (n = 0 → empty); Slice clamps when fewer exist. */
export function lastAlong2({ g }: Ctx, x: string, n: number): string {
  const start = n > 0 ? -n : 2147483647;
  return g.op1("Slice", [x, g.const("int64", [start]), g.const("int64", [2147483647]), g.const("int64", [2])]);
}
