/**
 * Camera frames as graph inputs of a frame step (SCD's encoder_step, the entangled baseline's trunk_step):
 * `image_i` [batch, H, W, 3] per layout image feature, normalized and full size (the graph crops): their specs and
 * names at export, their shapes and feeds at run time.
 */
import type { Feed, IOMeta, ValueSpec } from "../policies/registry.ts";

/** The graph input of image feature i. */
export const imageInput = (i: number): string => `image_${i}`;

/** Input specs of a layout's image features, in order; `crop`: the centre crop the graph takes (documented). */
export function imageInputSpecs(features: readonly { name: string; shape: readonly number[] }[] | undefined, crop: number): ValueSpec[] {
  return (features ?? []).map((f, i) => ({ name: imageInput(i), dtype: "float32", shape: ["batch", ...f.shape], doc: `"${f.name}" normalized with normalizers["${f.name}"] (x/255 → [−1, 1]), full size; the graph takes the centre ${crop} × ${crop} crop` }));
}

/** [H, W, 3] of each image input a loaded graph declares, in order. */
export function imageInputShapes(inputs: readonly IOMeta[]): number[][] {
  return inputs.filter((x) => /^image_\d+$/.test(x.name)).map((x) => x.shape.slice(1).map(Number));
}

/**
 * One frame's images as feeds `image_i` [batch, H, W, 3].
 * @throws Error naming `who` when the number of images differs from the graph's.
 */
export function imageFeeds(images: readonly Float32Array[], shapes: readonly number[][], batch: number, who: string): Record<string, Feed> {
  if (images.length !== shapes.length) throw new Error(`${who} (ONNX): the export takes ${shapes.length} image(s) per frame, got ${images.length}`);
  return Object.fromEntries(images.map((im, i) => [imageInput(i), { data: im, dims: [batch, ...shapes[i]] }]));
}
