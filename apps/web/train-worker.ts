/**
 * The page's training Web Worker: SCD trained on the person's recordings with TensorFlow.js (wasm, one thread) off the
 * main thread, through the same TrainSession as `scd train` (src/train/session.ts). Progress is posted every step; the
 * result is the EMA weights + checkpoint metadata. The page stops a run with worker.terminate().
 */
import "../../src/policies/scd/index.ts";
import { policyDef, parsePolicyConfig } from "../../src/policies/registry.ts";
import { decodeDataset } from "../../src/datasets/native-bytes.ts";
import { TrainConfig, withPolicyTrainDefaults } from "../../src/train/config.ts";
import { prepareTrainData, TrainSession } from "../../src/train/session.ts";
import { useTfjsBackend } from "../../src/web/tfjs-web.ts";
import type { TrainMessage, TrainRequest } from "../../src/web/train-protocol.ts";

const post = (m: TrainMessage, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

async function run(req: TrainRequest): Promise<void> {
  const t0 = performance.now();
  const info = await useTfjsBackend("wasm", new URL("tfjs/", self.location.href).href);
  post({ type: "ready", backend: `TensorFlow.js ${info.tfjsVersion}, wasm${info.simd ? " SIMD" : ""}` });
  const cfg = TrainConfig.parse(withPolicyTrainDefaults({ ...req.train, policy: req.policy, dataset: req.name, out: "(page)" }));
  const def = policyDef(cfg.policy);
  const policyConfig = parsePolicyConfig(def, req.policyConfig, "policyConfig");
  const data = prepareTrainData(decodeDataset(req.bytes, req.name).buffer, cfg, def, policyConfig, req.name);
  const session = new TrainSession(def, policyConfig, data, cfg);
  try {
    const tLoop = performance.now();
    while (session.step < cfg.steps) {
      const loss = session.trainStep();
      post({ type: "progress", step: session.step, steps: cfg.steps, loss, stepsPerSec: session.step / ((performance.now() - tLoop) / 1000) });
    }
    const seconds = (performance.now() - t0) / 1000;
    const meta = session.meta({ dataset: req.name, episodes: data.buffer.episodeEnds.length, trainConfig: cfg, savedAt: new Date().toISOString(), trainSeconds: Math.round(seconds * 100) / 100, machine: `web worker: ${navigator.userAgent}` });
    const weights = session.emaWeights();
    post({ type: "done", meta, weights, seconds }, [...new Set(Object.values(weights).map((w) => w.buffer as ArrayBuffer))]);
  } finally {
    session.dispose();
  }
}

self.onmessage = (e: MessageEvent<TrainRequest>) => {
  if (e.data?.type !== "train") return;
  run(e.data).catch((err: unknown) => post({ type: "error", message: (err as Error)?.message ?? String(err) }));
};
