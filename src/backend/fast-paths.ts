/**
 * Switches for the training-speed fixes, so `npm run bench -- train` can time the same step with them on and off
 * in one process. Everything behind a switch computes the same function; only the kernels that run differ.
 *   headSplit   attention splits heads as [B, T, 3H, dh] + a rank-4 transpose (wasm runs rank-5 transposes at
 *               ~0.1 GB/s, 100-200x slower than rank 4)
 *   fusedAdamW  the AdamW + EMA update runs as one plain-array loop instead of ~15 tensor ops per parameter
 *   kernels     the wasm kernel patches of train-kernels.ts (prefix-axis Sum as a matmul, Identity without a copy)
 */
import { applyTrainKernels, removeTrainKernels } from "./train-kernels.ts";

export const fastPaths = { headSplit: true, fusedAdamW: true, kernels: true };

/** Turn every fix on or off (kernel patches apply only on the wasm backend). */
export function setFastPaths(on: boolean): void {
  fastPaths.headSplit = on;
  fastPaths.fusedAdamW = on;
  fastPaths.kernels = on;
  if (on) applyTrainKernels();
  else removeTrainKernels();
}
