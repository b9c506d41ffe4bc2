/**
 * Collect expert demonstrations of the multimodal reaching task, train SCD on them, evaluate — from code:
 *   npx tsx examples/train-reach.ts
 */
import * as path from "node:path";
import "../src/envs/index.ts";
import { initBackend, makeEnv, DatasetWriter, train, loadPolicy, evaluate } from "../src/index.ts";
import { builtinPolicy } from "../src/policies/builtin.ts";
import { rollout } from "../src/eval/rollout.ts";
import { TrainConfig } from "../src/train/config.ts";

await initBackend();
const out = "runs/example-reach";
const env = await makeEnv("reach-obstacle-v1");
const expert = await builtinPolicy("expert", "reach-obstacle-v1", env.actionSpace);
const data = path.join("runs", "example-reach.scdd");
const w = new DatasetWriter(data, { "observation.state": { shape: [2] }, action: { shape: [2] } });
for (let seed = 0; seed < 100; seed++) w.appendEpisode((await rollout(env, expert, seed)).episode);
w.finalize();
const r = await train(TrainConfig.parse({ policy: "scd", dataset: data, steps: 300, batch: 32, out }));
const report = await evaluate({ makeEnv: () => makeEnv("reach-obstacle-v1"), makePolicy: async () => loadPolicy(r.dir), episodes: 20, seedStart: 100000, loop: { strategy: { kind: "receding", execute: 4 } } });
console.log(report.aggregated);
