/**
 * The page's TensorFlow.js runtime, a separate chunk the page imports when the user switches to it (TensorFlow.js
 * is most of its size): the SCD policy's tfjs model (src/policies/scd), the backend switch and the checkpoint fetcher.
 */
import "../../src/policies/scd/index.ts";

export { useTfjsBackend, tfjsTensorCount, type TfjsWebBackend, type TfjsWebInfo } from "../../src/web/tfjs-web.ts";
export { loadWebCheckpoint, type WebCheckpoint } from "../../src/checkpoints/fetch-checkpoint.ts";
export { chunkParity } from "../../src/deploy/parity.ts";
export { policyFromCheckpoint } from "../../src/checkpoints/to-policy.ts";
