/**
 * A small transformer (embedding -> 2 causal blocks -> linear head) used to check backends: gradients of
 * patched wasm against cpu (test), and train-step time per backend (bench). Covers gather, matmul with
 * transpose flags, softmax, layer norm and gelu in backprop.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";
import { Module, Linear, Embedding, LayerNorm } from "./module.ts";
import { Block, causalMask } from "./transformer.ts";

export class ProbeTransformer extends Module {
  readonly embed: Embedding;
  readonly blocks: Block[];
  readonly ln: LayerNorm;
  readonly head: Linear;
  constructor(seed: number, readonly vocab = 32, readonly d = 64, readonly heads = 4, nLayers = 2) {
    super();
    const rng = new Rng(seed);
    this.embed = this.child("embed", new Embedding(rng, vocab, d));
    this.blocks = [...Array(nLayers).keys()].map((i) => this.child(`block${i}`, new Block(rng, d, heads, 4, nLayers)));
    this.ln = this.child("ln", new LayerNorm(d));
    this.head = this.child("head", new Linear(rng, d, 2));
  }
  /** ids: [B, T] int; target: [B, T, 2]. Mean squared error. */
  loss(ids: tf.Tensor, target: tf.Tensor): tf.Scalar {
    const T = ids.shape[1]!;
    const mask = causalMask(T);
    let h = this.embed.forward(ids); // [B, T, D]
    for (const b of this.blocks) h = b.forward(h, mask).y;
    return this.head.forward(this.ln.forward(h)).sub(target).square().mean() as tf.Scalar;
  }
}

export function probeBatch(seed: number, B = 8, T = 32, vocab = 32): { ids: tf.Tensor; target: tf.Tensor } {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: B * T }, () => rng.int(vocab));
  return { ids: tf.tensor(ids, [B, T], "int32"), target: tf.tensor(rng.normals(B * T * 2), [B, T, 2]) };
}

/** Gradients of the loss with respect to every parameter, as plain arrays keyed by name. */
export function probeGradients(model: ProbeTransformer, ids: tf.Tensor, target: tf.Tensor): Map<string, Float32Array> {
  const params = model.parameters();
  const names = [...params.keys()];
  const { grads } = tf.variableGrads(() => model.loss(ids, target), names.map((n) => params.get(n)!));
  const out = new Map<string, Float32Array>();
  for (const n of names) out.set(n, grads[params.get(n)!.name].dataSync() as Float32Array);
  tf.dispose(grads);
  return out;
}
