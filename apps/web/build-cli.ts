/** npm run build:web [-- --out dir] [-- --reach-checkpoint dir] [-- --image-checkpoint dir] — the static site for `scd web` (see apps/web/build.ts). */
import "../../src/policies/index.ts";
import "../../src/policies/onnx.ts";
import { buildWeb } from "./build.ts";

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const t0 = performance.now();
const r = await buildWeb({ out: arg("--out"), reachCheckpoint: arg("--reach-checkpoint"), imageCheckpoint: arg("--image-checkpoint") });
console.log(`built ${r.out}: first load ${(r.firstLoadBytes / 1e6).toFixed(1)} MB (${(r.firstLoadSentBytes / 1e6).toFixed(1)} MB sent with Brotli: ${(r.bundleBytes / 1e6).toFixed(2)} MB of JavaScript, ONNX Runtime's wasm, the ONNX export) + ${(r.lazyBytes / 1e6).toFixed(2)} MB of JavaScript on demand (TensorFlow.js, the training worker), from ${r.inputs.length} modules, no Node built-ins or native addons; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
