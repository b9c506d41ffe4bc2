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
import "../policies/index.ts";
import "../datasets/index.ts";
export { initBackend, type BackendReport } from "./backend/index.ts";
export { ScdError } from "./errors.ts";
export { SHIPPED_PUSHT, PUSHT_DATASET, PACKAGE_ROOT } from "./assets.ts";
export * from "./data/episodes.ts";
export { sampleWindows, splitEpisodes, type WindowSpec } from "./data/windows.ts";
export { fitNormalizer, normalize, unnormalize, type NormStats } from "./data/normalizer.ts";
export { DatasetWriter, DatasetReader, readDataset, writeDataset } from "./data/native.ts";
export { loadDataset, type LoadedDataset } from "./data/load.ts";
export { registerDatasetFormat, datasetFormats, type DatasetFormat } from "./data/formats.ts";
export type { Env, Obs, StepResult, Box, RgbFrame } from "./env/types.ts";
export { makeEnv, registerEnv, envIds, envSpec, type EnvSpec } from "./env/registry.ts";
export { TimeLimit, ClipAction } from "./env/wrappers.ts";
export { VectorEnv } from "./env/vector.ts";
export { checkEnv } from "./env/check.ts";
export type { ChunkPolicy, Frame } from "./policy/types.ts";
export { registerPolicy, policyNames } from "./policy/model.ts";
export { LearnedPolicy, policyFromCheckpoint } from "./policy/learned.ts";
export { loadPolicy } from "./policy/checkpoint-loader.ts";
export { builtinPolicy } from "./policy/builtin.ts";
export { controlLoop, type LoopConfig, type LoopEvent } from "./loop/loop.ts";
export { ActionQueue, type Strategy } from "./loop/queue.ts";
export { runEpisodeVirtual, runEpisodeRealtime } from "./loop/runner.ts";
export { summarizeLoop } from "./loop/metrics.ts";
export { evaluate, type EvalReport, type EvalOptions } from "./eval/evaluate.ts";
export { train } from "./train/train.ts";
