/**
 * A small ResNet-style image encoder, one frame → one feature vector, written once against Ops (ops.ts) so tfjs
 * trains it and the ONNX export traces the same code. The recipe is Diffusion Policy's image encoder (Chi et al.
 * 2023, "Diffusion Policy: Visuomotor Policy Learning via Action Diffusion"; diffusion_policy's hybrid image policy
 * over robomimic's ResNet18Conv + SpatialSoftmax + VisualCore): a ResNet-18 (He et al. 2016) with BatchNorm replaced
 * by GroupNorm (Wu & He 2018; statistics per image, so training and inference agree at any batch) and the global
 * average pool replaced by a spatial softmax (Levine et al. 2016) over a 1×1 keypoint projection, then a linear
 * layer; random crops in training, the centre crop at evaluation (96 → 84 on Push-T). Scaled down for a CPU: a 3×3
 * stride-2 stem (not 7×7/2 + max pool) and, by default, 4 stages of 16/32/64/64 channels (ResNet-18: 64 … 512).
 *
 *   images [N, H, W, 3] → stem conv3×3/2 + GN + ReLU           [N, ⌈H/2⌉, ⌈W/2⌉, c0]
 *     → stage s: `blocks` BasicBlocks (the first strided 2 for s > 0) [N, ⌈H/2^(s+1)⌉, …, c_s]
 *     → 1×1 conv to `keypoints` channels → spatial softmax          [N, 2·keypoints]
 *     → linear                                                       [N, dOut]
 */
import * as tf from "@tensorflow/tfjs";
import { Module, Linear, GroupNorm } from "./module.ts";
import type { Ops } from "./ops.ts";
import { tfOps } from "./tf-ops.ts";
import { Rng } from "../util/rng.ts";
import { ScdError } from "../errors.ts";
import { ScdImageConfig } from "./image-config.ts";

/** The encoder's shape. Every count is a positive integer. */
export interface ImageEncoderConfig {
  /** Channels of each stage (ResNet-18: 64, 128, 256, 512); the first keeps the stem's resolution, each later one halves it. */
  readonly channels: readonly number[];
  /** BasicBlocks per stage (ResNet-18: 2). */
  readonly blocks: number;
  /** GroupNorm groups; must divide every stage's channel count (Diffusion Policy: channels / 16). */
  readonly groups: number;
  /** Spatial-softmax keypoints: channels of the 1×1 projection before it (robomimic's num_kp, 32 in Diffusion Policy). */
  readonly keypoints: number;
  /** Feature size per frame (robomimic's feature_dimension, 64). */
  readonly dOut: number;
}

/** 4 stages of 16/32/64/64 channels, 2 blocks each (ResNet-18's layout), 8 groups, 32 keypoints, 64 features. */
export const DEFAULT_IMAGE_ENCODER: ImageEncoderConfig = { channels: [16, 32, 64, 64], blocks: 2, groups: 8, keypoints: 32, dOut: 64 };

/**
 * Check a config. @throws Error naming the field, its value and what is valid: a count that is not a positive
 * integer, no stage, or groups not dividing a stage's channels.
 */
export function checkImageEncoderConfig(c: ImageEncoderConfig): void {
  const where = "image-encoder.ts: ImageEncoderConfig";
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${where}.${name} = ${v}: must be a positive integer`);
  };
  if (!Array.isArray(c.channels) || c.channels.length === 0) throw new Error(`${where}.channels = ${JSON.stringify(c.channels)}: must list at least one stage's channel count`);
  c.channels.forEach((v, i) => positive(`channels[${i}]`, v));
  for (const k of ["blocks", "groups", "keypoints", "dOut"] as const) positive(k, c[k]);
  const bad = c.channels.filter((v) => v % c.groups !== 0);
  if (bad.length) throw new Error(`${where}.groups = ${c.groups} does not divide channels ${bad.join(", ")} (of [${c.channels.join(", ")}]); use a common divisor`);
}

/** He (kaiming) normal init with fan-out, as torchvision's ResNet: std √(2 / (k·k·cOut)). */
function kaiming(rng: Rng, k: number, cIn: number, cOut: number): Float32Array {
  return rng.normals(k * k * cIn * cOut, Math.sqrt(2 / (k * k * cOut)));
}

/** Conv2d k×k (padding "same") on [N, H, W, cIn] → [N, ⌈H/stride⌉, ⌈W/stride⌉, cOut]; w [k, k, cIn, cOut]. */
export class Conv2d extends Module {
  readonly w: tf.Variable;
  readonly b: tf.Variable | null;
  constructor(rng: Rng, readonly cIn: number, readonly cOut: number, readonly k: number, readonly stride = 1, bias = false) {
    super();
    this.w = this.param("w", [k, k, cIn, cOut], kaiming(rng, k, cIn, cOut));
    this.b = bias ? this.param("b", [cOut], new Float32Array(cOut)) : null;
  }
  apply<T>(o: Ops<T>, x: T): T {
    return o.conv2d(x, o.param(this.w), this.b ? o.param(this.b) : null, this.stride, "same");
  }
}

/** conv → GN, the unit every block is built from. */
class ConvNorm extends Module {
  readonly conv: Conv2d;
  readonly norm: GroupNorm;
  constructor(rng: Rng, cIn: number, cOut: number, k: number, stride: number, groups: number) {
    super();
    this.conv = this.child("conv", new Conv2d(rng, cIn, cOut, k, stride));
    this.norm = this.child("norm", new GroupNorm(groups, cOut, 2));
  }
  apply<T>(o: Ops<T>, x: T): T {
    return this.norm.apply(o, this.conv.apply(o, x));
  }
}

/**
 * ResNet's BasicBlock: relu(GN(conv3×3(relu(GN(conv3×3/stride(x))))) + shortcut(x)); the shortcut is a strided 1×1
 * conv + GN when the shape changes. x [N, H, W, cIn] → [N, ⌈H/stride⌉, ⌈W/stride⌉, cOut].
 */
class BasicBlock extends Module {
  readonly a: ConvNorm;
  readonly b: ConvNorm;
  readonly down: ConvNorm | null;
  constructor(rng: Rng, cIn: number, cOut: number, stride: number, groups: number) {
    super();
    this.a = this.child("a", new ConvNorm(rng, cIn, cOut, 3, stride, groups));
    this.b = this.child("b", new ConvNorm(rng, cOut, cOut, 3, 1, groups));
    this.down = stride !== 1 || cIn !== cOut ? this.child("down", new ConvNorm(rng, cIn, cOut, 1, stride, groups)) : null;
  }
  apply<T>(o: Ops<T>, x: T): T {
    const h = this.b.apply(o, o.relu(this.a.apply(o, x))); // [N, H', W', cOut]
    return o.relu(o.add(h, this.down ? this.down.apply(o, x) : x));
  }
}

/**
 * The per-frame image encoder: images [N, H, W, 3] (float, already scaled, e.g. to [0, 1]; H, W > 2^stages, so the
 * last map is at least 2 × 2: 84 → 6 × 6 with 4 stages) → features [N, dOut]. Parameters by dotted name
 * (stem.conv.w, stage1.block0.a.norm.g, …) for checkpoints and the export. Init from a seeded Rng: the same weights
 * on every backend.
 * @throws Error from the constructor for an invalid config ({@link checkImageEncoderConfig}); from apply/forward
 * when the input is not [N, H, W, 3] (conv2d) or too small for a 2 × 2 last map (spatialSoftmax).
 */
export class ImageEncoder extends Module {
  readonly stem: ConvNorm;
  readonly stages: BasicBlock[][];
  readonly keypoint: Conv2d;
  readonly out: Linear;

  constructor(readonly cfg: ImageEncoderConfig = DEFAULT_IMAGE_ENCODER, seed = 0) {
    super();
    checkImageEncoderConfig(cfg);
    const rng = new Rng(seed), { channels: ch, groups } = cfg;
    this.stem = this.child("stem", new ConvNorm(rng, 3, ch[0], 3, 2, groups));
    this.stages = ch.map((c, s) => Array.from({ length: cfg.blocks }, (_, i) => {
      const cIn = i === 0 ? ch[Math.max(0, s - 1)] : c, stride = i === 0 && s > 0 ? 2 : 1;
      return this.child(`stage${s}.block${i}`, new BasicBlock(rng, cIn, c, stride, groups));
    }));
    this.keypoint = this.child("keypoint", new Conv2d(rng, ch.at(-1)!, cfg.keypoints, 1, 1, true));
    this.out = this.child("out", new Linear(rng, 2 * cfg.keypoints, cfg.dOut));
  }

  /** images [N, H, W, 3] → features [N, dOut], on any Ops. */
  apply<T>(o: Ops<T>, images: T): T {
    return this.out.apply(o, this.keypoints(o, images)); // [N, dOut]
  }

  /** images [N, H, W, 3] → the spatial-softmax keypoints before `out`, [N, 2·keypoints] ((x, y) per keypoint, in [−1, 1]). */
  keypoints<T>(o: Ops<T>, images: T): T {
    let h = o.relu(this.stem.apply(o, images)); // [N, H/2, W/2, c0]
    for (const stage of this.stages) for (const block of stage) h = block.apply(o, h); // [N, H/2^(s+1), W/2^(s+1), c_s]
    return o.spatialSoftmax(this.keypoint.apply(o, h)); // [N, 2·keypoints]
  }

  /** images [N, H, W, 3] → features [N, dOut] on tfjs tensors (call inside tf.tidy). */
  forward(images: tf.Tensor): tf.Tensor {
    return this.apply(tfOps, images);
  }
}

/** [N, H, W] of a crop's input. @throws Error when images is not rank 4 or size is not an integer in [1, min(H, W)]. */
function cropDims(images: tf.Tensor, size: number, fn: string): [number, number, number] {
  if (images.rank !== 4) throw new Error(`${fn}: images must be [N, H, W, C], got shape [${images.shape}]`);
  const [N, H, W] = images.shape;
  if (!Number.isInteger(size) || size < 1 || size > Math.min(H, W)) throw new Error(`${fn}: crop size ${size} must be an integer from 1 to ${Math.min(H, W)} (images [${images.shape}])`);
  return [N, H, W];
}

/**
 * Random-crop augmentation, Diffusion Policy's training crop (96 → 84 on Push-T): each image its own offset, uniform
 * over the (H − size + 1)·(W − size + 1) positions, drawn from `rng` (row then column, image by image).
 * images [N, H, W, C] (any dtype, e.g. uint8 pixels as int32) → [N, size, size, C], same dtype. Pure; tidy inside.
 * @throws Error when images is not rank 4 or size is not an integer from 1 to min(H, W).
 */
export function randomCrop(images: tf.Tensor, size: number, rng: Rng): tf.Tensor {
  const [N, H, W] = cropDims(images, size, "randomCrop");
  const at = Array.from({ length: N }, () => [rng.int(H - size + 1), rng.int(W - size + 1)]);
  if (N === 0) return images.slice([0, 0, 0, 0], [0, size, size, -1]);
  return tf.tidy(() => tf.concat(at.map(([y, x], n) => images.slice([n, y, x, 0], [1, size, size, -1])), 0)); // [N, size, size, C]
}

/**
 * The evaluation crop: the centre size × size window, offset ⌊(H − size)/2⌋ (robomimic's center_crop).
 * images [N, H, W, C] → [N, size, size, C], same dtype. Pure.
 * @throws Error when images is not rank 4 or size is not an integer from 1 to min(H, W).
 */
export function centerCrop(images: tf.Tensor, size: number): tf.Tensor {
  const [, H, W] = cropDims(images, size, "centerCrop");
  return images.slice([0, Math.floor((H - size) / 2), Math.floor((W - size) / 2), 0], [-1, size, size, -1]);
}

/**
 * {@link randomCrop} on a plain array, without tensors (a training batch is cropped before it becomes one: 128
 * tensor slices cost seconds on wasm, this copy milliseconds). The same offsets for the same `rng` state (row then
 * column, image by image). images [n, H, W, C] flat (`shape` = [H, W, C]) → a new array [n, size, size, C].
 * @throws Error when the array is not n·H·W·C values or size is not an integer from 1 to min(H, W).
 */
export function randomCropArray(images: Float32Array, n: number, shape: readonly number[], size: number, rng: Rng): Float32Array {
  const [H, W, C] = shape;
  if (images.length !== n * H * W * C) throw new Error(`randomCropArray: ${images.length} values are not ${n} images of [${shape}]`);
  if (!Number.isInteger(size) || size < 1 || size > Math.min(H, W)) throw new Error(`randomCropArray: crop size ${size} must be an integer from 1 to ${Math.min(H, W)} (images [${shape}])`);
  const out = new Float32Array(n * size * size * C), row = size * C;
  for (let i = 0; i < n; i++) {
    const y = rng.int(H - size + 1), x = rng.int(W - size + 1);
    for (let r = 0; r < size; r++) {
      const from = ((i * H + y + r) * W + x) * C;
      out.set(images.subarray(from, from + row), (i * size + r) * row);
    }
  }
  return out;
}

// ---- the image path of a frame model (SCD, the entangled baseline): encoders, crops, features beside the frame ----

/** An image feature as a frame layout lists it (src/policies/frames.ts ImageFeature): its name and [H, W, 3]. */
export interface FrameImageFeature {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * The image path of a frame model: one ImageEncoder per layout image feature, run once per frame on that frame's
 * normalized image (a random crop at training, the centre crop at inference); its dOut features are appended to the
 * frame vector before the model's input projection, so a frame stays ONE token: [..., F] → [..., F + images·dOut].
 * The owner registers the encoders as its children `image0`, `image1`, … (their parameters are the owner's
 * `image<i>.…`), each seeded from the owner's seed alone: the rest of the model initialises as without images.
 */
export class FrameImages {
  /** One per image feature, in the layout's order; [] without images. */
  readonly encoders: ImageEncoder[];
  /** Values appended to each frame: images · dOut (0 without images). */
  readonly dim: number;

  /** The image config in use: the model config's `image`, or its defaults; null without image features. */
  readonly cfg: ScdImageConfig | null;

  /**
   * `image`: the model config's `image` (src/nn/image-config.ts); `register`: the owner's Module.child.
   * @throws ScdError when an image feature is smaller than the crop, or the stages leave no 2 × 2 last map.
   */
  constructor(image: ScdImageConfig | undefined, readonly features: readonly FrameImageFeature[], seed: number, register: (name: string, e: ImageEncoder) => ImageEncoder) {
    this.cfg = features.length ? (image ?? ScdImageConfig.parse({})) : null;
    const ic = this.cfg!; // used only when there are features
    for (const f of features) {
      if (ic.crop > Math.min(f.shape[0], f.shape[1])) throw new ScdError(`image feature "${f.name}" [${f.shape}] is smaller than the crop ${ic.crop} (config image.crop)`);
      if (ic.crop >> ic.channels.length < 2) throw new ScdError(`config image: a ${ic.crop}-pixel crop over ${ic.channels.length} stride-2 stages leaves less than a 2 × 2 map (fewer channels stages, or a larger crop)`);
    }
    this.encoders = features.map((_, i) => register(`image${i}`, new ImageEncoder(ic, seed * 7919 + 101 + i)));
    this.dim = features.length ? features.length * ic.dOut : 0;
  }

  /**
   * The frame [..., F] with each image's features appended → [..., F + images·dOut], on any Ops. `images`: one per
   * feature, cropped and normalized [N, c, c, 3], N = the product of `leading` (the frame's leading dims; rows in
   * the frame's order; [0] for a symbolic batch).
   */
  append<T>(o: Ops<T>, frame: T, images: T[], leading: number[]): T {
    return this.join(o, frame, this.encode(o, images, leading), leading.length);
  }

  /** The frame [..., F] with features from {@link encode} (same leading dims) appended on `axis` (= the frame's last) → [..., F + images·dOut]. */
  join<T>(o: Ops<T>, frame: T, feats: T[], axis: number): T {
    return feats.length ? o.concat([frame, ...feats], axis) : frame;
  }

  /** Each image's features, [..., dOut] with the leading dims `leading` (images as in {@link append}); [] without images. */
  encode<T>(o: Ops<T>, images: T[], leading: number[]): T[] {
    return this.encoders.map((e, i) => {
      const f = e.apply(o, images[i]); // [N, dOut]
      return leading.length === 1 ? f : o.reshape(f, [...leading, -1]); // [..., dOut]
    });
  }

  /** The inference crop on any Ops: image i's centre crop × crop window, normalized [N, H, W, 3] → [N, c, c, 3] (robomimic's offsets). */
  centerCrop<T>(o: Ops<T>, image: T, i: number): T {
    const [H, W] = this.features[i].shape, c = this.cfg!.crop;
    const y = Math.floor((H - c) / 2), x = Math.floor((W - c) / 2);
    return o.slice(o.slice(image, 1, y, y + c), 2, x, x + c);
  }

  /**
   * Check a frame's images: one per feature; tensors must be [B, H, W, 3] of the feature's H, W (B = `batch` when given).
   * @throws ScdError naming the model's image features, or the feature whose tensor has the wrong shape.
   */
  check(images: readonly unknown[] | undefined, where: string, batch?: number): void {
    const n = this.encoders.length;
    if ((images?.length ?? 0) !== n) throw new ScdError(`${where}: the model takes ${n} image feature(s) (${this.features.map((f) => f.name).join(", ") || "none"}), got ${images?.length ?? 0}`);
    (images ?? []).forEach((im, i) => {
      if (!(im instanceof tf.Tensor)) return;
      const f = this.features[i], s = im.shape;
      if (s.length !== 4 || s[1] !== f.shape[0] || s[2] !== f.shape[1] || s[3] !== f.shape[2] || (batch !== undefined && s[0] !== batch))
        throw new ScdError(`${where}: image "${f.name}" is [${s}], the model takes [${batch ?? "B"}, ${f.shape}] (normalized, full size)`);
    });
  }

  /** A training batch's images (flat [n, H, W, 3] each, normalized) → a random crop each, [n, c, c, 3] tensors (inside a tidy). */
  trainCrops(images: readonly Float32Array[] | undefined, n: number, rng: Rng): tf.Tensor[] {
    const c = this.cfg?.crop ?? 0;
    return (images ?? []).map((im, i) => tf.tensor(randomCropArray(im, n, this.features[i].shape, c, rng), [n, c, c, 3]));
  }

  /** One frame [B, F] and its images (normalized [B, H, W, 3], centre-cropped here) → [B, F + images·dOut] on tfjs; the frame itself without images. */
  frameInput(frame: tf.Tensor, images: readonly tf.Tensor[] = []): tf.Tensor {
    if (!this.encoders.length) return frame;
    return tf.tidy(() => this.append(tfOps, frame, images.map((im, i) => this.centerCrop(tfOps, im, i)), [frame.shape[0]!]));
  }
}
