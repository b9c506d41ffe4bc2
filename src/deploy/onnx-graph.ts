/**
 * A small ONNX graph builder over the onnx-proto schema (protobufjs): named values, float/double/int64
 * initializers, nodes, and typed graph inputs/outputs with symbolic dimensions. The export traces each policy's
 * forward code into it (onnx-ops.ts); `toBytes()` drops what no output needs and serializes a ModelProto.
 */
import type onnxProto from "onnx-proto";
import type { Dim, DType, ValueSpec } from "../policies/registry.ts";

export type { Dim, DType, ValueSpec };

// loaded on first serialization only: few processes export. Reached through process.getBuiltinModule
// (Node ≥ 20.16), not a static node: import, so this module also bundles for the browser (which runs graphs,
// never builds them).
const schema = (): typeof onnxProto.onnx => {
  const mod = (globalThis as { process?: { getBuiltinModule?: (m: string) => typeof import("node:module") } }).process?.getBuiltinModule?.("node:module");
  if (!mod) throw new Error("building ONNX graphs needs Node.js >= 20.16 (process.getBuiltinModule); it is not available in a browser");
  return (mod.createRequire(import.meta.url)("onnx-proto") as typeof onnxProto).onnx;
};
/** The ONNX operator set every exported graph declares (LayerNormalization needs 17; ORT 1.30 runs up to 23). */
export const OPSET = 17;
/** IR version 8 (ONNX 1.10+), the newest the onnx-proto schema knows. */
export const IR_VERSION = 8;

// TensorProto.DataType and AttributeProto.AttributeType codes of the ONNX spec (onnx.proto)
const DT = { float32: 1, float64: 11, int64: 7 } as const;
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

type AttrValue = number | number[] | { float: number };

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
  if (typeof v === "object") return { name, type: ATTR.FLOAT, f: v.float };
  return { name, type: ATTR.INT, i: v };
}

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    docString: v.doc ?? "",
    type: { tensorType: { elemType: DT[v.dtype], shape: { dim: v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
  };
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: ValueSpec[] = [];
  private readonly outputs: ValueSpec[] = [];
  private readonly consts = new Map<string, string>();
  private n = 0;

  constructor(readonly name: string) {}

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.n++}`;
  }

  input(spec: ValueSpec): string {
    this.inputs.push(spec);
    return spec.name;
  }

  /** Declare `value` as a graph output named spec.name (an Identity renames it). */
  output(value: string, spec: ValueSpec): void {
    this.nodes.push({ opType: "Identity", input: [value], output: [spec.name], name: spec.name });
    this.outputs.push(spec);
  }

  get declaredInputs(): readonly ValueSpec[] {
    return this.inputs;
  }
  get declaredOutputs(): readonly ValueSpec[] {
    return this.outputs;
  }

  /** A float32 initializer (weights), little-endian raw data. */
  weight(name: string, data: Float32Array, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`${this.name}: initializer "${name}" has ${data.length} values for shape [${dims}]`);
    const raw = new Uint8Array(data.byteLength);
    new Float32Array(raw.buffer).set(data); // copy: subarray views may be unaligned or shared
    this.inits.push({ name, dims, dataType: DT.float32, rawData: raw });
    return name;
  }

  /** A small constant, shared by value (e.g. reshape targets, scalars). */
  const(dtype: DType, values: number[], dims: number[] = [values.length]): string {
    const key = `${dtype}:${dims.join("x")}:${values.join(",")}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const name = this.fresh(`const_${dtype}`);
    const t: onnxProto.onnx.ITensorProto = { name, dims, dataType: DT[dtype] };
    if (dtype === "float32") t.floatData = values;
    else if (dtype === "float64") t.doubleData = values;
    else t.int64Data = values;
    this.inits.push(t);
    this.consts.set(key, name);
    return name;
  }

  scalar(v: number): string {
    return this.const("float32", [v], []);
  }

  /** Add a node; returns its output names (one per `outputs`, or one fresh name). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string[] {
    const out = Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({ opType, input: inputs, output: out, name: out[0], attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return out;
  }

  /** Single-output node. */
  op1(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.op(opType, inputs, attrs)[0];
  }

  /** Keep only the nodes some output depends on, and the initializers they read (traced code may compute more). */
  prune(): void {
    const need = new Set(this.outputs.map((o) => o.name));
    const keep = new Set<onnxProto.onnx.INodeProto>();
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (!n.output!.some((o) => need.has(o))) continue;
      keep.add(n);
      for (const x of n.input!) need.add(x);
    }
    this.nodes.splice(0, this.nodes.length, ...this.nodes.filter((n) => keep.has(n)));
    this.inits.splice(0, this.inits.length, ...this.inits.filter((t) => need.has(t.name!)));
  }

  /** Names of the initializers (after prune: the ones the outputs need). */
  get initializerNames(): string[] {
    return this.inits.map((t) => t.name!);
  }

  toBytes(docString: string): Uint8Array {
    this.prune();
    const onnx = schema();
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: "", version: OPSET }],
      producerName: "scd-policy",
      producerVersion: "1",
      docString,
      graph: { name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs.map(valueInfo), output: this.outputs.map(valueInfo) },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
