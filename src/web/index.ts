/**
 * scd-policy/web: the browser-safe API — nothing here imports a Node built-in or a native addon (the web bundle
 * test checks it). Simulators (import "scd-policy/envs"), the control loop on a page-driven virtual clock, both
 * policy runtimes (TensorFlow.js from a fetched checkpoint; ONNX Runtime Web from a fetched export), recording to
 * the native dataset format, and the training step. Register the policies you load first (e.g.
 * import "scd-policy/policies" for tfjs, "scd-policy/policies/onnx" for ONNX exports).
 *
 *   import "scd-policy/envs";
 *   import "scd-policy/policies";
 *   import { makeEnv, LiveEnv, LiveRun, useTfjsBackend, loadWebCheckpoint } from "scd-policy/web";
 *   await useTfjsBackend("wasm", "/tfjs/");                       // tfjs-backend-wasm's .wasm files served at /tfjs/
 *   const ckpt = await loadWebCheckpoint("/checkpoints/pusht-scd/"); // checkpoint.json + weights.msgpack (as dist/web serves them)
 *   const env = new LiveEnv(await makeEnv("pusht-v1", {}, { timeLimit: false }));
 *   const run = new LiveRun(env, ckpt.policy(), { strategy: { kind: "receding", execute: 8 }, seed: 0, maxSteps: 300 });
 *   run.start();
 *   setInterval(() => run.pump(1), 100);                           // one 10 Hz tick per call
 *
 * @module scd-policy/web
 */
export { makeEnv, envIds, envSpec } from "../envs/registry.ts";
export type { Env, Obs, StepResult, Box, RgbFrame } from "../envs/types.ts";
export type { ChunkPolicy, Frame } from "../policies/types.ts";
export { controlLoop, type LoopConfig, type LoopEvent } from "../loop/loop.ts";
export type { Strategy } from "../loop/queue.ts";
export { LiveEnv } from "./live-env.ts";
export { LiveRun, type LiveConfig, type LiveHooks } from "./live-loop.ts";
export { LoopStats } from "./stats.ts";
export { PointerPolicy, type PointerToAction } from "./pointer-policy.ts";
export { Recorder } from "./recorder.ts";
export { encodeDataset, decodeDataset } from "../datasets/native-bytes.ts";
export { useTfjsBackend, tfjsTensorCount, type TfjsWebBackend } from "./tfjs-web.ts";
export { loadWebCheckpoint, type WebCheckpoint } from "../checkpoints/fetch-checkpoint.ts";
export { parseCheckpointMeta, decodeWeights, type CheckpointMeta, type Weights } from "../checkpoints/format.ts";
export { LearnedPolicy } from "../policies/learned.ts";
export { policyFromCheckpoint } from "../checkpoints/to-policy.ts";
export { initOrtWasm, ORT_WEB_VERSION, type OrtWasm, type OrtWasmFactory } from "./ort-wasm.ts";
export { loadWebExport, type WebExport } from "../checkpoints/fetch-export.ts";
export { chunkParity } from "../deploy/parity.ts";
export { prepareTrainData, TrainSession, defaultObsFeatures } from "../train/session.ts";
export { TrainConfig } from "../train/config.ts";
