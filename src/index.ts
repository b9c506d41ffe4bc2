/**
 * scd-policy: Separable Causal Diffusion policies for robot trajectories — the public API.
 *
 *   import { initBackend, makeEnv, loadPolicy, evaluate, SHIPPED_PUSHT } from "scd-policy";
 *   import "scd-policy/envs";   // the simulators (the policies and dataset formats below register on import)
 *   await initBackend();
 *   const report = await evaluate({ makeEnv: () => makeEnv("pusht-v1"), makePolicy: async () => loadPolicy(SHIPPED_PUSHT),
 *     episodes: 50, seedStart: 100000, loop: { strategy: { kind: "receding", execute: 8 } } });
 *
 * @module scd-policy
 */
// the package's entry point registers the built-in policies and dataset formats; core modules never do
import "./policies/index.ts";
import "./datasets/index.ts";
export { initBackend, type BackendReport } from "./backend/index.ts";
export { ScdError } from "./errors.ts";
export { SHIPPED_PUSHT, SHIPPED_ARM_PUSH, PUSHT_DATASET, PACKAGE_ROOT } from "./assets.ts";
export * from "./datasets/episodes.ts";
export { sampleWindows, sampleWindowsAsync, splitEpisodes, type WindowSpec } from "./datasets/windows.ts";
export { fitNormalizer, normalize, unnormalize, type NormStats } from "./datasets/normalizer.ts";
export { DatasetWriter, DatasetReader, readDataset, writeDataset } from "./datasets/native.ts";
export { loadDataset, type LoadedDataset } from "./datasets/load.ts";
export { registerDatasetFormat, datasetFormats, type DatasetFormat } from "./datasets/formats.ts";
export type { Env, Obs, StepResult, Box, RgbFrame } from "./envs/types.ts";
export { makeEnv, registerEnv, envIds, envSpec, type EnvSpec } from "./envs/registry.ts";
export { TimeLimit, ClipAction } from "./envs/wrappers.ts";
export { VectorEnv } from "./envs/vector.ts";
export { checkEnv } from "./envs/check.ts";
export type { ChunkPolicy, Frame } from "./policies/types.ts";
export { registerPolicy, policyNames } from "./policies/registry.ts";
export { LearnedPolicy } from "./policies/learned.ts";
export { policyFromCheckpoint } from "./checkpoints/to-policy.ts";
export { loadPolicy } from "./checkpoints/load-checkpoint.ts";
export { builtinPolicy } from "./policies/builtin.ts";
export { controlLoop, type LoopConfig, type LoopEvent } from "./loop/loop.ts";
export { ActionQueue, type Strategy } from "./loop/queue.ts";
export { runEpisodeVirtual, runEpisodeRealtime } from "./loop/runner.ts";
export { summarizeLoop } from "./loop/metrics.ts";
export { evaluate, type EvalReport, type EvalOptions } from "./eval/evaluate.ts";
export { train } from "./train/train.ts";
