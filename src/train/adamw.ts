/**
 * AdamW with per-parameter learning-rate multipliers (SCD trains its decoder at 2× the encoder's rate), global
 * gradient-norm clipping, and an EMA of the weights. Its state is plain arrays, so `--resume` is exact.
 *
 * Two implementations of the same update: the FUSED one (default) reads each gradient once and runs the moment,
 * weight and EMA updates as one loop over plain Float32Arrays (~1 dispatch per parameter instead of ~15 tensor
 * ops, which were 1,780 of the ~4,000 kernel dispatches of an SCD train step on wasm); the tensor one is kept
 * as the benchmark's "stock" step (`fastPaths.fusedAdamW = false` when the optimizer is built).
 * EMA: a fixed decay, or Diffusion Policy's warm-up decay_k = min(emaDecay, 1 − (1 + k)^−emaPower)
 * (diffusion_policy/model/diffusion/ema_model.py, inv_gamma = 1) when emaPower > 0.
 */
import * as tf from "@tensorflow/tfjs";
import { fastPaths } from "../backend/fast-paths.ts";

/** AdamW's hyperparameters, gradient clipping and the EMA's decay. */
export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clip: number; // global grad-norm clip; 0 = off
  emaDecay: number; // the EMA decay, or its cap when emaPower > 0
  emaPower?: number; // 0 / absent = fixed decay
}

/** The optimizer's state as plain arrays (step, moments, EMA weights), saved for an exact `--resume`. */
export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
  ema: Record<string, Float32Array>;
}

/** Parameter name → its values (moments, EMA weights) as a plain array. */
type Store = Map<string, Float32Array>;

/** AdamW with per-parameter learning-rate multipliers, global gradient-norm clipping and an EMA of the weights. */
export class AdamW {
  private readonly m: Store = new Map();
  private readonly v: Store = new Map();
  private readonly e: Store = new Map();
  /** The stock path keeps its moments on the backend. */
  private readonly tm = new Map<string, tf.Variable>();
  private readonly tv = new Map<string, tf.Variable>();
  private readonly te = new Map<string, tf.Variable>();
  readonly fused: boolean;
  step = 0;

  /**
   * @param params the variables to train, by name
   * @param lrMult the learning-rate multiplier of a parameter, by name
   */
  constructor(readonly params: Map<string, tf.Variable>, readonly cfg: AdamWConfig, readonly lrMult: (name: string) => number = () => 1) {
    this.fused = fastPaths.fusedAdamW;
    for (const [k, p] of params) {
      if (this.fused) {
        this.m.set(k, new Float32Array(p.size));
        this.v.set(k, new Float32Array(p.size));
        this.e.set(k, p.dataSync().slice() as Float32Array);
      } else {
        // in a tidy: the initial values would otherwise outlive dispose()
        this.tm.set(k, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
        this.tv.set(k, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
        this.te.set(k, tf.tidy(() => tf.variable(p.clone(), false)));
      }
    }
  }

  /** The EMA decay used at optimizer step k (1-based). */
  emaDecayAt(k: number): number {
    const p = this.cfg.emaPower ?? 0;
    return p > 0 ? Math.max(0, Math.min(this.cfg.emaDecay, 1 - (1 + k) ** -p)) : this.cfg.emaDecay;
  }

  /** One update from a loss closure. Returns the loss value and the gradient norm before clipping. */
  minimize(lossFn: () => tf.Scalar, lrScale = 1): { loss: number; gradNorm: number } {
    const names = [...this.params.keys()];
    const { value, grads } = tf.variableGrads(lossFn, names.map((n) => this.params.get(n)!));
    const loss = value.dataSync()[0];
    this.step++;
    const res = this.fused ? this.fusedUpdate(names, grads, lrScale) : this.tensorUpdate(names, grads, lrScale);
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, gradNorm: res };
  }

  private decays(name: string, p: tf.Variable): boolean {
    // decoupled weight decay on matrices only (not biases, norms or embeddings of size 1 x d)
    return p.shape.length >= 2 && !name.endsWith(".table");
  }

  private fusedUpdate(names: string[], grads: tf.NamedTensorMap, lrScale: number): number {
    const g = names.map((n) => grads[this.params.get(n)!.name].dataSync() as Float32Array);
    let sq = 0;
    for (const a of g) for (let i = 0; i < a.length; i++) sq += a[i] * a[i];
    const gradNorm = Math.sqrt(sq);
    const scale = this.cfg.clip > 0 && gradNorm > this.cfg.clip ? this.cfg.clip / gradNorm : 1;
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.cfg;
    const bc1 = 1 - b1 ** this.step, bc2 = 1 - b2 ** this.step;
    const ed = this.emaDecayAt(this.step);
    names.forEach((n, j) => {
      const p = this.params.get(n)!, gj = g[j];
      const w = p.dataSync().slice() as Float32Array;
      const m = this.m.get(n)!, v = this.v.get(n)!, e = this.e.get(n)!;
      const lr = this.cfg.lr * lrScale * this.lrMult(n), wd = this.decays(n, p) ? weightDecay : 0;
      for (let i = 0; i < w.length; i++) {
        const gi = gj[i] * scale;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        w[i] -= lr * (m[i] / bc1 / (Math.sqrt(v[i] / bc2) + eps) + wd * w[i]);
        e[i] = ed * e[i] + (1 - ed) * w[i];
      }
      tf.tidy(() => p.assign(tf.tensor(w, p.shape)));
    });
    return gradNorm;
  }

  private tensorUpdate(names: string[], grads: tf.NamedTensorMap, lrScale: number): number {
    const gradNorm = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => grads[this.params.get(n)!.name].square().sum()))).dataSync()[0]);
    const scale = this.cfg.clip > 0 && gradNorm > this.cfg.clip ? this.cfg.clip / gradNorm : 1;
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this.cfg;
    const bc1 = 1 - b1 ** this.step, bc2 = 1 - b2 ** this.step;
    const ed = this.emaDecayAt(this.step);
    tf.tidy(() => {
      for (const n of names) {
        const p = this.params.get(n)!, g = grads[p.name].mul(scale);
        const m = this.tm.get(n)!, v = this.tv.get(n)!;
        m.assign(m.mul(b1).add(g.mul(1 - b1)));
        v.assign(v.mul(b2).add(g.square().mul(1 - b2)));
        const lr = this.cfg.lr * lrScale * this.lrMult(n);
        const upd = m.div(bc1).div(v.div(bc2).sqrt().add(eps));
        const decay = this.decays(n, p) ? p.mul(wd) : tf.zerosLike(p);
        p.assign(p.sub(upd.add(decay).mul(lr)));
        const e = this.te.get(n)!;
        e.assign(e.mul(ed).add(p.mul(1 - ed)));
      }
    });
    return gradNorm;
  }

  /** The EMA weights by parameter name (fresh copies). */
  emaWeights(): Record<string, Float32Array> {
    if (this.fused) return Object.fromEntries([...this.e].map(([k, a]) => [k, a.slice()]));
    return Object.fromEntries([...this.te].map(([k, t]) => [k, t.dataSync().slice() as Float32Array]));
  }

  /** The state as plain arrays (copies). */
  getState(): AdamWState {
    const dumpA = (mp: Store) => Object.fromEntries([...mp].map(([k, a]) => [k, a.slice()]));
    const dumpT = (mp: Map<string, tf.Variable>) => Object.fromEntries([...mp].map(([k, t]) => [k, t.dataSync().slice() as Float32Array]));
    return this.fused
      ? { step: this.step, m: dumpA(this.m), v: dumpA(this.v), ema: dumpA(this.e) }
      : { step: this.step, m: dumpT(this.tm), v: dumpT(this.tv), ema: dumpT(this.te) };
  }

  /** Restore a state from {@link AdamW.getState}. @throws Error when a parameter's moments or EMA are missing or of the wrong size. */
  setState(s: AdamWState): void {
    this.step = s.step;
    const check = (src: Record<string, Float32Array>, k: string, size: number, what: string) => {
      const arr = src[k];
      if (!arr || arr.length !== size) throw new Error(`optimizer state: ${what} for "${k}" is missing or has the wrong size`);
      return arr;
    };
    for (const [k, p] of this.params)
      for (const [what, src, arrs, vars] of [["m", s.m, this.m, this.tm], ["v", s.v, this.v, this.tv], ["ema", s.ema, this.e, this.te]] as const) {
        const arr = check(src, k, p.size, what);
        if (this.fused) arrs.set(k, Float32Array.from(arr));
        else tf.tidy(() => vars.get(k)!.assign(tf.tensor(arr, p.shape)));
      }
  }

  /** Release the tensors the unfused path keeps on the backend. */
  dispose(): void {
    for (const mp of [this.tm, this.tv, this.te]) for (const t of mp.values()) t.dispose();
  }
}
