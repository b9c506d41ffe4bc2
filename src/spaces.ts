/**
 * The spaces and values every layer exchanges (Gymnasium's spaces, in TypeScript): boxes, observations as named
 * flat features, env diagnostics and RGB frames. Below every other module, so datasets, envs, policies and the loop
 * share them without importing each other.
 */
/** A box space (Gymnasium's Box): a shape and per-dimension bounds over the flattened values. */
export interface Box {
  shape: number[];
  low: number[]; // per flat dimension
  high: number[];
  names?: string[];
}

/** An observation: named features, each a fresh flat array (e.g. "observation.state"). */
export type Obs = Record<string, Float32Array>;
/** Diagnostics an env returns with reset and step; `isSuccess` when the task has a success test. */
export type Info = Record<string, unknown> & { isSuccess?: boolean };

/** An RGB image: 3 bytes per pixel, row-major. */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8ClampedArray; // RGB, row-major, 3 bytes per pixel
}

/** Values in a box: the product of its shape. */
export const boxDim = (b: Box): number => b.shape.reduce((a, c) => a * c, 1);

export function box(shape: number[], low: number | number[], high: number | number[], names?: string[]): Box {
  const n = shape.reduce((a, c) => a * c, 1);
  const arr = (v: number | number[]) => (Array.isArray(v) ? v : new Array(n).fill(v));
  return { shape, low: arr(low), high: arr(high), ...(names ? { names } : {}) };
}
