/**
 * Evaluate the shipped Push-T SCD checkpoint through the control loop, from code:
 *   npx tsx examples/evaluate.ts [episodes]
 */
import "../src/envs/index.ts";
import "../src/policies/index.ts";
import { initBackend, makeEnv, loadPolicy, evaluate } from "../src/index.ts";

await initBackend();
const episodes = Number(process.argv[2] ?? 5);
const report = await evaluate({
  makeEnv: () => makeEnv("pusht-v1"),
  makePolicy: async () => loadPolicy("assets/checkpoints/scd-pusht"),
  episodes,
  seedStart: 100000,
  loop: { strategy: { kind: "receding", execute: 8 }, latencyMs: "measured" },
});
console.log(report.aggregated);
