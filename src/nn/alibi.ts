/** ALiBi (Press et al. 2022, "Train Short, Test Long", arXiv:2108.12409) without tfjs: the per-head slopes the models and their traced ONNX graphs share. */

/** ALiBi slopes 2^(−8h/H): a per-head linear distance penalty, translation invariant, so a sliding KV cache
 * sees exactly the biases of training. */
export function alibiSlopes(heads: number): number[] {
  return Array.from({ length: heads }, (_, h) => 2 ** ((-8 * (h + 1)) / heads));
}
