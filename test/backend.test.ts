import { test } from "uvu";
import * as assert from "uvu/assert";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { applyWasmPatches, removeWasmPatches } from "../src/backend/wasm-patches.ts";
import { ProbeTransformer, probeBatch, probeGradients } from "./fixtures/probe-model.ts";

async function gradsOn(backend: string, patched: boolean): Promise<Map<string, Float32Array>> {
  await tf.setBackend(backend);
  await tf.ready();
  if (backend === "wasm") (patched ? applyWasmPatches : removeWasmPatches)();
  const model = new ProbeTransformer(7);
  const { ids, target } = probeBatch(3);
  const g = probeGradients(model, ids, target);
  tf.dispose([ids, target]);
  model.dispose();
  return g;
}

test("patched wasm gradients of a transformer (incl. embedding gather) match cpu within 1e-5", async () => {
  const cpu = await gradsOn("cpu", false);
  const wasm = await gradsOn("wasm", true);
  assert.ok(cpu.has("embed.table"), "embedding gradient present");
  let worst = 0;
  for (const [name, g] of cpu) {
    const w = wasm.get(name)!;
    assert.is(w.length, g.length, name);
    let nonzero = false;
    for (let i = 0; i < g.length; i++) {
      worst = Math.max(worst, Math.abs(g[i] - w[i]));
      if (g[i] !== 0) nonzero = true;
    }
    assert.ok(nonzero, `gradient of ${name} is all zero`);
  }
  assert.ok(worst < 1e-5, `max |cpu - wasm| = ${worst}`);
  removeWasmPatches();
});

test("unpatched wasm has no gather gradient (the reason for the patch)", async () => {
  await tf.setBackend("wasm");
  removeWasmPatches();
  assert.throws(() => {
    const model = new ProbeTransformer(1);
    const { ids, target } = probeBatch(1);
    probeGradients(model, ids, target);
  }, /UnsortedSegmentSum/);
});

test("patched matmul with transpose flags equals plain matmul of transposed inputs", async () => {
  await tf.setBackend("wasm");
  applyWasmPatches();
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const a = tf.randomNormal([3, 5, 4], 0, 1, "float32", 1);
    const b = tf.randomNormal([3, 6, 5], 0, 1, "float32", 2);
    const flags = tf.matMul(a, b, true, true);
    const plain = tf.matMul(a.transpose([0, 2, 1]), b.transpose([0, 2, 1]));
    assert.ok(flags.sub(plain).abs().max().dataSync()[0] < 1e-5);
    assert.equal(flags.shape, [3, 4, 6]);
  });
  assert.is(tf.memory().numTensors, before, "no tensor leak in the patched kernel");
  removeWasmPatches();
  await tf.setBackend("cpu");
});

test.run();
