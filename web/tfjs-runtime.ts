/**
 * The page's TensorFlow.js runtime, a separate chunk the page imports when the user switches to it (TensorFlow.js
 * is most of its size): the SCD policy's tfjs model (policies/scd), the backend switch and the checkpoint fetcher.
 */
import "../policies/scd/index.ts";

export { useTfjsBackend, tfjsTensorCount, type TfjsWebBackend, type TfjsWebInfo } from "../src/web/tfjs-web.ts";
export { loadWebCheckpoint, type WebCheckpoint } from "../src/web/checkpoint-web.ts";
export { chunkParity } from "../src/deploy/parity.ts";
export { policyFromCheckpoint } from "../src/policy/learned.ts";
