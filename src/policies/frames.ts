/**
 * From dataset windows (or live observations) to the model's inputs. A FRAME vector is
 * [normalized observation features … ; normalized previous action (0 at the first frame) ; first-frame flag],
 * or only the observation features when the layout says `prevAction: false` (feeding past actions invites
 * behaviour cloning's copycat problem; Diffusion Policy conditions on observations only).
 * Training batches come from the pure window sampler: observations at offsets −(L−1)…0 and actions at −L…H−1,
 * so every window position j has its frame, its previous action and its target chunk a_j … a_{j+H−1}.
 */
import { type EpisodeBuffer, featureDim } from "../datasets/episodes.ts";
import { sampleWindows, type WindowSpec } from "../datasets/windows.ts";
import { affine, type NormSet } from "../datasets/normalizer.ts";
import type { Obs } from "../envs/types.ts";
import { Rng } from "../util/rng.ts";

/** What a frame vector holds, in order: the observation features and their sizes, and whether the previous action follows. */
export interface FrameLayout {
  obsFeatures: { name: string; dim: number }[];
  actionDim: number;
  frameDim: number;
  /** Whether the frame carries the previous action and the first-frame flag; absent (older checkpoints) = true. */
  prevAction?: boolean;
}

export function frameLayout(obsFeatures: { name: string; dim: number }[], actionDim: number, opts: { prevAction?: boolean } = {}): FrameLayout {
  const prevAction = opts.prevAction ?? true;
  const obsDim = obsFeatures.reduce((a, f) => a + f.dim, 0);
  return { obsFeatures, actionDim, frameDim: obsDim + (prevAction ? actionDim + 1 : 0), ...(prevAction ? {} : { prevAction: false }) };
}

export function layoutFromBuffer(buf: EpisodeBuffer, obsNames: readonly string[], opts: { prevAction?: boolean } = {}): FrameLayout {
  return frameLayout(obsNames.map((name) => ({ name, dim: featureDim(buf.schema[name]) })), featureDim(buf.schema.action), opts);
}

type Aff = { scale: Float32Array; shift: Float32Array };
const affines = (norms: NormSet, names: string[]): Record<string, Aff> => Object.fromEntries(names.map((n) => [n, affine(norms[n])]));

/** One frame vector from a live observation (normalized with the checkpoint's stats). */
export function frameFromObs<T extends Float32Array>(L: FrameLayout, norms: NormSet, obs: Obs, prevAction: Float32Array | null, out: T): T {
  let o = 0;
  for (const f of L.obsFeatures) {
    const v = obs[f.name];
    if (!v) throw new Error(`observation has no "${f.name}" (the policy was trained on ${L.obsFeatures.map((x) => x.name).join(", ")})`);
    const a = affine(norms[f.name]);
    for (let j = 0; j < f.dim; j++) out[o + j] = v[j] * a.scale[j] + a.shift[j];
    o += f.dim;
  }
  if (L.prevAction === false) return out;
  const aa = affine(norms.action);
  for (let j = 0; j < L.actionDim; j++) out[o + j] = prevAction ? prevAction[j] * aa.scale[j] + aa.shift[j] : 0;
  out[o + L.actionDim] = prevAction ? 0 : 1;
  return out;
}

/** A training batch in a model's terms: B windows of L normalized frames, and the chunk targets at P positions per window. */
export interface WindowTensors {
  B: number;
  L: number;
  frames: Float32Array; // [B, L, frameDim]
  keyPad: Float32Array; // [B, L] 1 = before the episode start
  /** P positions per window at which the chunk is trained: flat indices into B·L, and their targets [B·P, H, A]. */
  posIdx: Int32Array;
  targets: Float32Array;
}

export function windowSpec(L: FrameLayout, win: number, H: number): WindowSpec {
  const spec: WindowSpec = {};
  for (const f of L.obsFeatures) spec[f.name] = Array.from({ length: win }, (_, j) => j - win + 1);
  spec.action = Array.from({ length: win + H }, (_, j) => j - win);
  return spec;
}

/** Build a training batch for anchors (the last frame of each window). P positions per window, sampled with rng. */
export function buildWindows(buf: EpisodeBuffer, L: FrameLayout, norms: NormSet, anchors: ArrayLike<number>, win: number, H: number, P: number, rng: Rng, episodeOf?: Int32Array): WindowTensors {
  const w = sampleWindows(buf, windowSpec(L, win, H), anchors, episodeOf);
  const B = w.n, A = L.actionDim, F = L.frameDim;
  const aff = affines(norms, [...L.obsFeatures.map((f) => f.name), "action"]);
  const frames = new Float32Array(B * win * F), keyPad = new Float32Array(B * win);
  const act = w.values.action, actPad = w.pad.action;
  const nA = win + H;
  const posIdx = new Int32Array(B * P), targets = new Float32Array(B * P * H * A);
  for (let b = 0; b < B; b++) {
    const valid: number[] = [];
    for (let j = 0; j < win; j++) {
      const fo = (b * win + j) * F;
      const padded = w.pad[L.obsFeatures[0].name][b * win + j] === 1;
      keyPad[b * win + j] = padded ? 1 : 0;
      if (padded) continue;
      valid.push(j);
      let o = 0;
      for (const f of L.obsFeatures) {
        const src = w.values[f.name], a = aff[f.name];
        for (let d = 0; d < f.dim; d++) frames[fo + o + d] = src[(b * win + j) * f.dim + d] * a.scale[d] + a.shift[d];
        o += f.dim;
      }
      if (L.prevAction === false) continue;
      const first = actPad[b * nA + j] === 1; // a_{j-1} lies before the episode start
      for (let d = 0; d < A; d++) frames[fo + o + d] = first ? 0 : act[(b * nA + j) * A + d] * aff.action.scale[d] + aff.action.shift[d];
      frames[fo + o + A] = first ? 1 : 0;
    }
    for (let p = 0; p < P; p++) {
      // always train the last position (the anchor, as at run time) plus random valid ones
      const j = p === 0 ? win - 1 : valid[rng.int(valid.length)];
      posIdx[b * P + p] = b * win + j;
      for (let i = 0; i < H; i++)
        for (let d = 0; d < A; d++) targets[((b * P + p) * H + i) * A + d] = act[(b * nA + j + 1 + i) * A + d] * aff.action.scale[d] + aff.action.shift[d];
    }
  }
  return { B, L: win, frames, keyPad, posIdx, targets };
}
