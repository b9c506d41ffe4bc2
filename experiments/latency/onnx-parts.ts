/**
 * Per-part cost of an ONNX export on ONNX Runtime (one thread), batch 1: `npx tsx experiments/latency/onnx-parts.ts <export dir>`
 * times `observe` (the per-frame step, e.g. SCD's encoder with its KV cache) and `sample` (conditioning + K denoising
 * steps) separately over 280 warm frames, CPU time (process.cpuUsage, less inflated by other processes) and wall.
 */
import { loadExport } from "../../src/deploy/onnx-policy.ts";
import { nodeRunner } from "../../src/deploy/ort-node.ts";
import { onnxExportDef } from "../../src/deploy/runtime.ts";
import { factsOf } from "../../src/checkpoints/export-dir.ts";
import { Rng } from "../../src/util/rng.ts";
import "../../src/policies/onnx.ts";
const dir = process.argv[2];
const ex = loadExport(dir, (b) => nodeRunner(b));
const F = ex.manifest.layout.frameDim;
const m = onnxExportDef(ex.manifest.policy, dir).runtime(ex.manifest.config, factsOf(ex.manifest), F, ex.graphs);
const rng = new Rng(0);
for (const K of [10, 1]) {
  m.reset(1);
  let obsCpu = 0, sampCpu = 0, obsW = 0, sampW = 0;
  const n = 300;
  for (let t = 0; t < n; t++) {
    const x = rng.normals(F);
    let c = process.cpuUsage(), w = performance.now();
    m.observe(x);
    let d = process.cpuUsage(c); if (t >= 20) { obsCpu += d.user + d.system; obsW += performance.now() - w; }
    c = process.cpuUsage(); w = performance.now();
    m.sample(K, rng);
    d = process.cpuUsage(c); if (t >= 20) { sampCpu += d.user + d.system; sampW += performance.now() - w; }
  }
  const k = n - 20;
  console.log(`K=${K}: encoder step cpu ${(obsCpu / 1000 / k).toFixed(3)} ms (wall ${(obsW / k).toFixed(3)}), chunk (conditioning + K denoise) cpu ${(sampCpu / 1000 / k).toFixed(3)} ms (wall ${(sampW / k).toFixed(3)})`);
}
ex.dispose();
