/**
 * AdamW with per-parameter learning-rate multipliers (SCD trains its decoder at 2× the encoder's rate), global
 * gradient-norm clipping, and an EMA of the weights. Its state is plain arrays, so `--resume` is exact.
 */
import * as tf from "@tensorflow/tfjs";

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clip: number; // global grad-norm clip; 0 = off
  emaDecay: number;
}

export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
  ema: Record<string, Float32Array>;
}

export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  readonly ema = new Map<string, tf.Variable>();
  step = 0;

  constructor(readonly params: Map<string, tf.Variable>, readonly cfg: AdamWConfig, readonly lrMult: (name: string) => number = () => 1) {
    for (const [k, p] of params) {
      this.m.set(k, tf.variable(tf.zerosLike(p), false));
      this.v.set(k, tf.variable(tf.zerosLike(p), false));
      this.ema.set(k, tf.variable(p.clone(), false));
    }
  }

  /** One update from a loss closure. Returns the loss value and the gradient norm before clipping. */
  minimize(lossFn: () => tf.Scalar, lrScale = 1): { loss: number; gradNorm: number } {
    const names = [...this.params.keys()];
    const { value, grads } = tf.variableGrads(lossFn, names.map((n) => this.params.get(n)!));
    const loss = value.dataSync()[0];
    const gradNorm = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => grads[this.params.get(n)!.name].square().sum()))).dataSync()[0]);
    const scale = this.cfg.clip > 0 && gradNorm > this.cfg.clip ? this.cfg.clip / gradNorm : 1;
    this.step++;
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this.cfg;
    const bc1 = 1 - b1 ** this.step, bc2 = 1 - b2 ** this.step;
    tf.tidy(() => {
      for (const n of names) {
        const p = this.params.get(n)!, g = grads[p.name].mul(scale);
        const m = this.m.get(n)!, v = this.v.get(n)!;
        m.assign(m.mul(b1).add(g.mul(1 - b1)));
        v.assign(v.mul(b2).add(g.square().mul(1 - b2)));
        const lr = this.cfg.lr * lrScale * this.lrMult(n);
        const upd = m.div(bc1).div(v.div(bc2).sqrt().add(eps));
        // decoupled weight decay on matrices only (not biases, norms or embeddings of size 1 x d)
        const decay = p.shape.length >= 2 && !n.endsWith(".table") ? p.mul(wd) : tf.zerosLike(p);
        p.assign(p.sub(upd.add(decay).mul(lr)));
        const e = this.ema.get(n)!;
        e.assign(e.mul(this.cfg.emaDecay).add(p.mul(1 - this.cfg.emaDecay)));
      }
    });
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, gradNorm };
  }

  getState(): AdamWState {
    const dump = (mp: Map<string, tf.Variable>) => Object.fromEntries([...mp].map(([k, t]) => [k, t.dataSync().slice() as Float32Array]));
    return { step: this.step, m: dump(this.m), v: dump(this.v), ema: dump(this.ema) };
  }

  setState(s: AdamWState): void {
    this.step = s.step;
    const load = (mp: Map<string, tf.Variable>, src: Record<string, Float32Array>, what: string) => {
      for (const [k, t] of mp) {
        const arr = src[k];
        if (!arr || arr.length !== t.size) throw new Error(`optimizer state: ${what} for "${k}" is missing or has the wrong size`);
        t.assign(tf.tensor(arr, t.shape));
      }
    };
    load(this.m, s.m, "m");
    load(this.v, s.v, "v");
    load(this.ema, s.ema, "ema");
  }

  dispose(): void {
    for (const mp of [this.m, this.v, this.ema]) for (const t of mp.values()) t.dispose();
  }
}
