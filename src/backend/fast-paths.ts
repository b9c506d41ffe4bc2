/**
 * Switches for the training-speed fixes, so `npm run bench -- train` can time the same step with them on and off
 * in one process. Everything behind a switch computes the same function; only the kernels that run differ.
 *   headSplit   attention takes q, k, v from column blocks of the qkv weight and splits heads with rank-4
 *               transposes (wasm runs rank-5 transposes at ~0.1 GB/s, 100-200x slower than rank 4)
 *   fusedAdamW  the AdamW + EMA update runs as one plain-array loop instead of ~15 tensor ops per parameter
 * and the wasm kernel patches of train-kernels.ts (streaming prefix-axis Sum, Identity without a copy), whose
 * state is trainKernelsApplied().
 */
import { applyTrainKernels, removeTrainKernels } from "./train-kernels.ts";

export const fastPaths = { headSplit: true, fusedAdamW: true };

/** Turn every fix on or off (kernel patches apply only on the wasm backend). */
export function setFastPaths(on: boolean): void {
  fastPaths.headSplit = on;
  fastPaths.fusedAdamW = on;
  if (on) applyTrainKernels();
  else removeTrainKernels();
}
