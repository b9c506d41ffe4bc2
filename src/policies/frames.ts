/**
 * From dataset windows (or live observations) to the model's inputs. A FRAME vector is
 * [normalized observation features … ; normalized previous action (0 at the first frame) ; first-frame flag],
 * or only the observation features when the layout says `prevAction: false` (feeding past actions invites
 * behaviour cloning's copycat problem; Diffusion Policy conditions on observations only).
 * Image features (camera frames, uint8 [H, W, 3] in datasets; float 0..255 in live observations) are not part of
 * the frame vector: the layout lists them in `images`, and they travel beside the frames, normalized per channel
 * ("image" normalizer: x/255 → [−1, 1]), for a policy's image encoder (SCD's, src/policies/scd/model.ts).
 * Training batches come from the pure window sampler: observations at offsets −(L−1)…0 and actions at −L…H−1,
 * so every window position j has its frame, its previous action and its target chunk a_j … a_{j+H−1}.
 */
import { type EpisodeBuffer, type FeatureSpec, featureDim } from "../datasets/episodes.ts";
import { sampleWindows, sampleWindowsAsync, type WindowBatch, type WindowSpec } from "../datasets/windows.ts";
import { affine, type NormSet } from "../datasets/normalizer.ts";
import type { Obs } from "../envs/types.ts";
import { ScdError } from "../errors.ts";
import { Rng } from "../util/rng.ts";

/** An image observation feature: its name and per-frame shape [H, W, C] (C = 3, channels last). */
export interface ImageFeature {
  name: string;
  shape: number[];
}

/** What a frame vector holds, in order: the observation features and their sizes, and whether the previous action follows. */
export interface FrameLayout {
  obsFeatures: { name: string; dim: number }[];
  actionDim: number;
  frameDim: number;
  /** Whether the frame carries the previous action and the first-frame flag; absent (older checkpoints) = true. */
  prevAction?: boolean;
  /** Image features, carried beside the frame vector (absent: none). */
  images?: ImageFeature[];
  /** Training-only targets (e.g. SCD's `auxTarget`): low-dimensional features sampled at every window frame for an
   * auxiliary loss, never read at run time (absent: none). */
  aux?: { name: string; dim: number }[];
}

/**
 * The frame layout of low-dimensional `obsFeatures` (in frame order), actions of `actionDim`, and `opts.imageFeatures`
 * beside the frame. `opts` may be a PolicyDef's frameOptions (its `images` flag is for layoutFromBuffer).
 */
export function frameLayout(obsFeatures: { name: string; dim: number }[], actionDim: number, opts: { prevAction?: boolean; images?: boolean; imageFeatures?: ImageFeature[]; auxFeatures?: { name: string; dim: number }[] } = {}): FrameLayout {
  const prevAction = opts.prevAction ?? true;
  const obsDim = obsFeatures.reduce((a, f) => a + f.dim, 0);
  return { obsFeatures, actionDim, frameDim: obsDim + (prevAction ? actionDim + 1 : 0), ...(prevAction ? {} : { prevAction: false }), ...(opts.imageFeatures?.length ? { images: opts.imageFeatures } : {}), ...(opts.auxFeatures?.length ? { aux: opts.auxFeatures } : {}) };
}

/**
 * Check an image feature's spec: uint8 [H, W, 3].
 * @throws ScdError naming the feature, its dtype and shape, and what an image feature must be.
 */
export function checkImageSpec(name: string, spec: FeatureSpec): ImageFeature {
  const s = spec.shape;
  if (spec.dtype !== "uint8" || s.length !== 3 || s[2] !== 3 || s[0] < 1 || s[1] < 1)
    throw new ScdError(`image feature "${name}" must be uint8 [H, W, 3] (channels last), got ${spec.dtype ?? "float32"} [${s}]`);
  return { name, shape: [...s] };
}

/**
 * The layout of `obsNames` in a buffer: uint8 features of rank 3 are images (when `opts.images`; refused otherwise),
 * the rest flat frame features; `opts.aux` names training-only target features (low-dimensional, float).
 * @throws ScdError for an image feature a policy without an image path is given, or one that is not uint8 [H, W, 3];
 * for an aux feature the dataset lacks or that is an image.
 */
export function layoutFromBuffer(buf: EpisodeBuffer, obsNames: readonly string[], opts: { prevAction?: boolean; images?: boolean; aux?: readonly string[] } = {}): FrameLayout {
  const isImage = (n: string) => buf.schema[n].dtype === "uint8" || buf.schema[n].shape.length === 3;
  const images = obsNames.filter(isImage).map((n) => checkImageSpec(n, buf.schema[n]));
  if (images.length && !opts.images) throw new ScdError(`observation feature "${images[0].name}" is an image [${images[0].shape}]: this policy has no image encoder (scd and entangled-diffusion have one; or train on low-dimensional features)`);
  const flat = obsNames.filter((n) => !isImage(n)).map((name) => ({ name, dim: featureDim(buf.schema[name]) }));
  const aux = (opts.aux ?? []).map((name) => {
    if (!buf.schema[name]) throw new ScdError(`auxiliary target feature "${name}" is not in the dataset (it has ${Object.keys(buf.schema).join(", ")})`);
    if (isImage(name)) throw new ScdError(`auxiliary target feature "${name}" is an image [${buf.schema[name].shape}]: a target must be low-dimensional`);
    return { name, dim: featureDim(buf.schema[name]) };
  });
  return frameLayout(flat, featureDim(buf.schema.action), { prevAction: opts.prevAction, imageFeatures: images, auxFeatures: aux });
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

/**
 * The layout's images from a live observation (pixel values 0..255, [H, W, 3] flat, channels last), each normalized
 * per channel with the checkpoint's stats into a new Float32Array [H·W·3]; [] without image features.
 * @throws ScdError naming the feature when it is missing or not H·W·3 values.
 */
export function imagesFromObs(L: FrameLayout, norms: NormSet, obs: Obs): Float32Array[] {
  return (L.images ?? []).map((f) => {
    const v = obs[f.name], n = f.shape[0] * f.shape[1] * f.shape[2];
    if (!v) throw new ScdError(`observation has no image "${f.name}" (the policy was trained on [${f.shape}] frames)`);
    if (v.length !== n) throw new ScdError(`image "${f.name}" has ${v.length} values, the policy was trained on [${f.shape}] (${n})`);
    const { scale, shift } = affine(norms[f.name]);
    const out = new Float32Array(n);
    for (let j = 0; j < n; j++) out[j] = v[j] * scale[j] + shift[j];
    return out;
  });
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
  /** One per layout image feature: normalized frames [B, L, H, W, 3] (a padded position holds the episode's edge frame). */
  images?: Float32Array[];
  /** The layout's aux targets, normalized, concatenated per frame: [B, L, Σ dim] (padded positions: the edge frame's). */
  aux?: Float32Array;
}

export function windowSpec(L: FrameLayout, win: number, H: number): WindowSpec {
  const spec: WindowSpec = {};
  for (const f of [...L.obsFeatures, ...(L.images ?? []), ...(L.aux ?? [])]) spec[f.name] = Array.from({ length: win }, (_, j) => j - win + 1);
  spec.action = Array.from({ length: win + H }, (_, j) => j - win);
  return spec;
}

/** Build a training batch for anchors (the last frame of each window). P positions per window, sampled with rng. */
export function buildWindows(buf: EpisodeBuffer, L: FrameLayout, norms: NormSet, anchors: ArrayLike<number>, win: number, H: number, P: number, rng: Rng, episodeOf?: Int32Array): WindowTensors {
  return windowTensors(sampleWindows(buf, windowSpec(L, win, H), anchors, episodeOf), L, norms, win, H, P, rng);
}

/** {@link buildWindows} for any frame source (Zarr chunks, video): the windows' image frames are loaded first (sampleWindowsAsync). */
export async function buildWindowsAsync(buf: EpisodeBuffer, L: FrameLayout, norms: NormSet, anchors: ArrayLike<number>, win: number, H: number, P: number, rng: Rng, episodeOf?: Int32Array): Promise<WindowTensors> {
  return windowTensors(await sampleWindowsAsync(buf, windowSpec(L, win, H), anchors, episodeOf), L, norms, win, H, P, rng);
}

function windowTensors(w: WindowBatch, L: FrameLayout, norms: NormSet, win: number, H: number, P: number, rng: Rng): WindowTensors {
  const B = w.n, A = L.actionDim, F = L.frameDim;
  const aff = affines(norms, [...L.obsFeatures.map((f) => f.name), ...(L.aux ?? []).map((f) => f.name), "action"]);
  const frames = new Float32Array(B * win * F), keyPad = new Float32Array(B * win);
  const act = w.values.action, actPad = w.pad.action;
  const nA = win + H;
  const posIdx = new Int32Array(B * P), targets = new Float32Array(B * P * H * A);
  const padOf = w.pad[(L.obsFeatures[0] ?? L.images?.[0]).name]; // [B, win] 1 = before the episode start
  for (let b = 0; b < B; b++) {
    const valid: number[] = [];
    for (let j = 0; j < win; j++) {
      const fo = (b * win + j) * F;
      const padded = padOf[b * win + j] === 1;
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
  // images: normalized in place of the sampler's widened copy (every position, padded ones hold the edge frame)
  const images = L.images?.map((f) => {
    const v = w.values[f.name], { scale, shift } = affine(norms[f.name]), n = scale.length;
    for (let i = 0; i < v.length; i++) v[i] = v[i] * scale[i % n] + shift[i % n];
    return v;
  });
  // aux targets: every position (a padded one holds the edge frame's value, as its image does)
  let aux: Float32Array | undefined;
  if (L.aux?.length) {
    const D = L.aux.reduce((a, f) => a + f.dim, 0);
    aux = new Float32Array(B * win * D);
    let o = 0;
    for (const f of L.aux) {
      const src = w.values[f.name], a = aff[f.name];
      for (let r = 0; r < B * win; r++) for (let d = 0; d < f.dim; d++) aux[r * D + o + d] = src[r * f.dim + d] * a.scale[d] + a.shift[d];
      o += f.dim;
    }
  }
  return { B, L: win, frames, keyPad, posIdx, targets, ...(images?.length ? { images } : {}), ...(aux ? { aux } : {}) };
}
