/**
 * zarrita returns an array in its stored memory order with the strides to read it by (an `"order": "F"` array
 * comes back column-major). Everything downstream indexes rows as C order, so reorder by the strides.
 */
import { ScdError } from "../../errors.ts";

type Indexable = { length: number; [i: number]: unknown };
export interface Strided {
  data: unknown;
  shape: number[];
  stride: number[];
}

/**
 * The values of `c` in row-major (C) order: `c.data` itself when it already is, else a copy of the same type.
 * @throws ScdError (naming `where`) when the strides do not address exactly the data given.
 */
export function rowMajor(c: Strided, where: string): ArrayLike<unknown> {
  const data = c.data as Indexable, { shape, stride } = c;
  const n = shape.reduce((a, b) => a * b, 1);
  if (stride.length !== shape.length || data.length < n) throw new ScdError(`${where}: zarr returned ${data.length} values with shape [${shape}] and strides [${stride}]`);
  let expect = 1, isC = true;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] > 1 && stride[d] !== expect) isC = false;
    expect *= shape[d];
  }
  if (isC) return data;
  const out = new (data.constructor as new (n: number) => Indexable)(n);
  const idx = new Array(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += idx[d] * stride[d];
    if (src < 0 || src >= data.length) throw new ScdError(`${where}: zarr strides [${stride}] point outside the ${data.length} values of shape [${shape}]`);
    out[i] = data[src];
    for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
  }
  return out;
}
