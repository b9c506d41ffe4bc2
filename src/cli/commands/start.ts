/**
 * `npm start`: within a wall-clock budget (default 10 min), show a Push-T policy doing the task and say which is which:
 *   A. the shipped checkpoint, evaluated on Diffusion Policy's test seeds, its best and worst episodes re-run as GIFs;
 *   B. a policy trained just now with `scd train`'s recipe, its learning rate decaying over the time the evaluations leave,
 *      then evaluated the same way;
 * and one self-contained report.html with both side by side (plus report.json).
 */
import { readMetricLines } from "../../checkpoints/run-dir.ts";
import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../../backend/index.ts";
import { PUSHT_DATASET, SHIPPED_PUSHT } from "../../assets.ts";
import { ScdError } from "../../errors.ts";
import { TrainConfig, withPolicyTrainDefaults } from "../../train/config.ts";
import { train, machineKind } from "../../train/train.ts";
import { evaluate, type EvalReport } from "../../eval/evaluate.ts";
import { makeEnv, envSpec } from "../../envs/registry.ts";
import { readCheckpointMeta } from "../../checkpoints/checkpoint.ts";
import { writeFileAtomic } from "../../util/fsx.ts";
import { Progress, fmtTime } from "../../util/progress.ts";
import { type Command, BACKEND_FLAG, out } from "../command.ts";
import { startReportHtml, startSummary, minutes, type BestEpisode, type Curves, type StartPart, type StartReport } from "../start-report.ts";
import { measureStepRate, sizedSchedule, policyOn, onnxAvailable, machineLabel, portablePath, gifEpisodes, type EvalRuntime } from "../start-run.ts";
import "../../envs/index.ts";

// found from the package root, not a fixed "../../..": this module runs from src/ (checkout) and dist/src/ (installed)
export { PUSHT_DATASET, SHIPPED_PUSHT };
const ENV = "pusht-v1";
const SEED_START = 100000; // Diffusion Policy's Push-T test seeds
const PARALLEL = 10;
const GIF_SIZE = 256; // px: a 300-step GIF at 512 px is ~0.9 MB, and the report inlines every GIF
const say = (line: string) => process.stderr.write(line + "\n");


/** Seconds of training steps behind a checkpoint: info.trainSeconds, else the last trainSeconds of a metrics.jsonl beside it. */
export function recordedTraining(dir: string, info: Record<string, unknown>): { seconds: number | null; source: string; metrics: string | null } {
  const metrics = [path.join(dir, "metrics.jsonl"), path.join(path.dirname(dir), "metrics.jsonl")].find((f) => fs.existsSync(f)) ?? null;
  if (typeof info.trainSeconds === "number") return { seconds: info.trainSeconds, source: "checkpoint.json info.trainSeconds", metrics };
  if (metrics) {
    const lines = readMetricLines(metrics);
    for (let i = lines.length - 1; i >= 0; i--) {
      const t = lines[i].trainSeconds;
      if (typeof t === "number") return { seconds: t, source: `trainSeconds in ${portablePath(metrics)}`, metrics };
    }
  }
  return { seconds: null, source: "not recorded in checkpoint.json nor in a metrics.jsonl beside it", metrics };
}

/** A run's curves from its metrics.jsonl: loss and validation loss per step, the periodic evaluations' score against minutes of training. */
export function curvesFromMetrics(metrics: string | null, evalSeeds: string | null): Curves {
  const c: Curves = { loss: [], valLoss: [], score: [], scoreSeeds: evalSeeds };
  for (const m of metrics ? readMetricLines(metrics) : []) {
    const step = m.step as number;
    if (typeof m.loss === "number") c.loss.push([step, m.loss]);
    if (typeof m.valLoss === "number") c.valLoss.push([step, m.valLoss]);
    if (typeof m.evalAvgMaxReward === "number" && typeof m.trainSeconds === "number") c.score.push([m.trainSeconds / 60, m.evalAvgMaxReward]);
  }
  return c;
}

/**
 * Evaluate a checkpoint on the test seeds (lockstep, latency 0) on `runtime`, then re-run its best and worst episodes
 * by seed with recording. Returns the report, the re-run episodes, and the seconds each stage took.
 */
async function evalWithGifs(ckpt: string, dir: string, episodes: number, gifs: number, label: string, runtime: EvalRuntime): Promise<{ report: EvalReport; best: BestEpisode[]; seconds: [number, number]; execute: number }> {
  const t0 = performance.now();
  const make = await policyOn(ckpt, runtime, path.join(dir, "onnx"));
  const p0 = await make();
  const execute = Math.min(8, p0.horizon); // Diffusion Policy's receding horizon: 8 of each 16-action chunk
  p0.dispose?.();
  const loop = { strategy: { kind: "receding" as const, execute }, latencyMs: 0 };
  const bar = new Progress(`  ${label}: evaluating`, episodes);
  let sum = 0, succ = 0;
  const report = await evaluate({
    makeEnv: () => makeEnv(ENV), makePolicy: make, episodes, seedStart: SEED_START, parallel: PARALLEL, loop,
    onEpisode: (done, r) => {
      sum += r.maxReward;
      succ += r.success ? 1 : 0;
      bar.update(done, `mean score ${(sum / done).toFixed(3)}, success ${succ}/${done}`);
    },
  });
  const t1 = performance.now();
  const chosen = gifEpisodes(report.per_episode, gifs);
  say(`  ${label}: recording GIFs of ${chosen.map((c) => `seed ${c.ep.seed} (${c.kind === "best" ? "one of its best" : "a failure"})`).join(", ")}`);
  const rerun = chosen.length
    ? await evaluate({ makeEnv: () => makeEnv(ENV, { renderSize: GIF_SIZE }), makePolicy: make, episodes: chosen.length, seedStart: chosen[0].ep.seed, seeds: chosen.map((c) => c.ep.seed), parallel: PARALLEL, loop, gifDir: path.join(dir, "gifs"), gifEpisodes: chosen.length })
    : null;
  const best = chosen.map((c, i) => {
    const r = rerun!.per_episode[i];
    return { seed: c.ep.seed, kind: c.kind, max_reward: r.max_reward, success: r.success, reproduced: r.max_reward === c.ep.max_reward, gif: rerun!.files.gifs[i] };
  });
  return { report, best, seconds: [(t1 - t0) / 1000, (performance.now() - t1) / 1000], execute };
}

export const start: Command = {
  name: "start",
  summary: "the main job: the shipped Push-T checkpoint vs one trained just now (best recipe), side by side, in ~10 min",
  usage: "[--minutes M] [--episodes N] [--out dir] [--skip-train]",
  flags: {
    minutes: { type: "number", desc: "total wall-clock budget in minutes; training gets what the evaluations leave", default: 10, min: 0.1 },
    episodes: { type: "int", desc: `evaluation episodes per policy (seeds from ${SEED_START}: Diffusion Policy's 50 test seeds)`, default: 50, min: 1 },
    gifs: { type: "int", desc: "GIFs per policy: its best-scoring episodes and its worst failure, re-run by seed", default: 3, min: 0 },
    out: { type: "string", desc: "output directory (default runs/start-<time>)" },
    checkpoint: { type: "string", desc: "the checkpoint shown as part A (default: the shipped one)" },
    "skip-train": { type: "boolean", desc: "only part A: evaluate the shipped checkpoint" },
    steps: { type: "int", desc: "cap part B's training at N steps (default: as many as the budget fits)", min: 1 },
    runtime: { type: "string", desc: "evaluation runtime: onnx (the checkpoints exported to ONNX; default when onnxruntime-node is installed) | tfjs" },
    ...BACKEND_FLAG,
  },
  async run(_pos, flags) {
    const tStart = performance.now();
    const since = () => (performance.now() - tStart) / 1000;
    const budget = (flags.minutes as number) * 60;
    if (!(budget > 0)) throw new ScdError(`--minutes must be > 0, got ${flags.minutes}`);
    const episodes = flags.episodes as number, nGifs = flags.gifs as number;
    if (episodes < 1) throw new ScdError(`--episodes must be ≥ 1, got ${episodes}`);
    if (nGifs < 0) throw new ScdError(`--gifs must be ≥ 0, got ${nGifs}`);
    const asked = flags.runtime as string | undefined;
    if (asked !== undefined && asked !== "onnx" && asked !== "tfjs") throw new ScdError(`--runtime must be onnx or tfjs, got "${asked}"`);
    const runtime: EvalRuntime = (asked as EvalRuntime | undefined) ?? ((await onnxAvailable()) ? "onnx" : "tfjs");
    if (asked === "onnx") (await import("../../deploy/ort-node.ts")).ortNodeBinding(); // when missing: its one-line error, how to install it
    const rep = await initBackend((flags.backend as string) ?? process.env.SCD_BACKEND ?? null);
    const outDir = (flags.out as string) ?? path.join("runs", `start-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
    const ckptA = (flags.checkpoint as string) ?? SHIPPED_PUSHT;
    const metaA = readCheckpointMeta(ckptA); // one clear error if it is missing or malformed
    const infoA = metaA.info as Record<string, unknown>;
    const trainedA = recordedTraining(ckptA, infoA);
    const cfgA = (infoA.trainConfig ?? {}) as Partial<TrainConfig>;
    const machineA = machineLabel(infoA.machine);
    const rtName = runtime === "onnx" ? "ONNX Runtime (each checkpoint exported to ONNX)" : `TensorFlow.js (${rep.backend})`;
    const phases: StartReport["phases"] = [];
    say(`scd start: A. the shipped Push-T policy and B. one trained now, in ${flags.minutes} min; each evaluated on ${episodes} test seeds through ${rtName}; report → ${outDir}/report.html`);

    // ---- Part A: the shipped checkpoint
    const dirA = path.join(outDir, "shipped");
    say(`[1/3] A. shipped checkpoint ${portablePath(ckptA)} (step ${metaA.step}): ${episodes} Push-T episodes from seed ${SEED_START}, then ${nGifs} GIFs`);
    const a = await evalWithGifs(ckptA, dirA, episodes, nGifs, "A (shipped)", runtime);
    phases.push({ name: "A: evaluation", seconds: a.seconds[0] }, { name: "A: GIFs", seconds: a.seconds[1] });
    const evalSeedsA = cfgA.evalEvery ? `seeds ${cfgA.evalSeedStart ?? SEED_START}–${(cfgA.evalSeedStart ?? SEED_START) + (cfgA.evalEpisodes ?? 10) - 1} (${cfgA.evalEpisodes ?? 10} episodes)` : null;
    const shipped: StartPart = {
      title: `Shipped checkpoint (trained for ${trainedA.seconds === null ? "an unknown time" : minutes(trainedA.seconds)}, step ${metaA.step})`,
      checkpoint: portablePath(ckptA),
      step: metaA.step,
      trainSeconds: trainedA.seconds,
      trainSecondsSource: trainedA.source,
      machine: machineA,
      details: [
        `${metaA.policy}, ${metaA.numParams.toLocaleString("en")} parameters${cfgA.steps ? `, step ${metaA.step} of a ${cfgA.steps}-step schedule` : ""}${cfgA.batch ? `, batch ${cfgA.batch}` : ""}`,
        `evaluated through ${rtName}, receding horizon: ${a.execute} actions executed per chunk`,
      ],
      config: metaA.config as Record<string, unknown>,
      eval: a.report,
      best: a.best,
      curves: curvesFromMetrics(trainedA.metrics, evalSeedsA),
    };

    // ---- Part B: a policy trained now with `scd train`'s recipe, its schedule sized to what the budget leaves
    let fresh: StartPart | null = null, freshSkipped: string | undefined;
    if (flags["skip-train"]) freshSkipped = "skipped (--skip-train)";
    else {
      // B's evaluation costs what A's did per simulated step; A's successes ended early, B's may run to the limit
      const fullLen = envSpec(ENV).maxEpisodeSteps ?? 300;
      const stepsA = a.report.per_episode.reduce((n, e) => n + e.steps, 0);
      const evalEstimate = (a.seconds[0] + a.seconds[1]) * Math.min(3, (episodes * fullLen) / Math.max(1, stepsA)) + 5; // + the report
      const dirB = path.join(outDir, "fresh");
      const recipe = TrainConfig.parse(withPolicyTrainDefaults({ dataset: portablePath(PUSHT_DATASET), out: portablePath(dirB) }));
      say(`[2/3] B. training ${recipe.policy} with \`scd train\`'s recipe: measuring its speed here to size the schedule to the time left`);
      const probe = await measureStepRate(recipe);
      const left = budget - since() - evalEstimate;
      const maxSeconds = Math.max(30, left);
      const setup = Math.max(1, probe.seconds - 10 / probe.stepsPerSec); // loading the data and building the model
      // the learning rate decays over the time itself (a time schedule), so a machine that slows down or speeds up
      // mid-run changes how many steps fit, never when training ends; the measured speed sizes the warm-up
      const cap = flags.steps as number | undefined;
      const sched = sizedSchedule(recipe, maxSeconds - setup, probe.stepsPerSec, cap);
      const cfgB = TrainConfig.parse({ ...recipe, warmup: sched.warmup, steps: cap ?? Math.max(100, sched.steps * 4), maxSeconds, schedule: "time" });
      const note = left < 30 ? ` (the budget is used up; training 30 s anyway: raise --minutes)` : "";
      say(
        `      ${probe.stepsPerSec.toFixed(2)} steps/s → about ${sched.steps} steps (warm-up ${cfgB.warmup}), the learning rate decaying over ${fmtTime(maxSeconds)}${note}, until about ${new Date(Date.now() + maxSeconds * 1000).toTimeString().slice(0, 8)} → ${dirB}\n` +
          `      the same as: npx scd train --schedule time --max-seconds ${Math.round(maxSeconds)} --warmup ${cfgB.warmup}${cap ? ` --steps ${cap}` : ""} --out ${dirB}`,
      );
      const tr = await train(cfgB);
      phases.push({ name: "B: training", seconds: tr.seconds });
      say(`[3/3] B. evaluating the policy trained just now the same way (at most about ${fmtTime(evalEstimate)})`);
      const b = await evalWithGifs(tr.dir, path.join(dirB, "eval"), episodes, nGifs, "B (trained now)", runtime);
      phases.push({ name: "B: evaluation", seconds: b.seconds[0] }, { name: "B: GIFs", seconds: b.seconds[1] });
      const metaB = readCheckpointMeta(tr.dir);
      const trainedB = recordedTraining(tr.dir, metaB.info as Record<string, unknown>);
      const done = tr.step >= cfgB.steps ? `the --steps cap ${cfgB.steps} reached before the time ran out` : "the whole time schedule";
      fresh = {
        title: `Trained just now for ${minutes(tr.seconds)} with the best recipe (scd train's defaults, its learning rate decaying over the time it had), step ${tr.step}: ${done}`,
        checkpoint: path.join(dirB, "checkpoint"),
        step: tr.step,
        trainSeconds: trainedB.seconds,
        trainSecondsSource: `training steps only; ${tr.seconds.toFixed(0)} s with data loading, validation and checkpoints`,
        machine: `${machineKind()}, ${rep.backend} backend`,
        details: [
          `${cfgB.policy}, ${tr.numParams.toLocaleString("en")} parameters, ${tr.step} steps of a time schedule (warm-up ${cfgB.warmup} steps, then cosine to ${cfgB.minLrFrac} × lr over ${fmtTime(cfgB.maxSeconds ?? 0)}), batch ${cfgB.batch}, lr ${cfgB.lr}`,
          `final loss ${tr.trainLoss.toFixed(4)}${tr.valLoss !== null ? `, validation ${tr.valLoss.toFixed(4)}` : ""}`,
          `evaluated through ${rtName}, receding horizon: ${b.execute} actions executed per chunk`,
        ],
        config: metaB.config as Record<string, unknown>,
        eval: b.report,
        best: b.best,
        curves: curvesFromMetrics(recordedTraining(tr.dir, {}).metrics, null),
      };
    }

    // ---- the report
    const report: StartReport = {
      createdAt: new Date().toISOString(),
      machine: machineKind(),
      backend: rep.backend,
      runtime: rtName,
      budgetMinutes: flags.minutes as number,
      wallSeconds: since(),
      protocol: { env: ENV, episodes, seedStart: SEED_START, latencyMs: 0, strategy: "receding horizon (execute min(8, H) actions of each H-action chunk)", maxSteps: envSpec(ENV).maxEpisodeSteps ?? null },
      shipped,
      fresh,
      ...(freshSkipped ? { freshSkipped } : {}),
      phases,
    };
    fs.mkdirSync(outDir, { recursive: true });
    const files = { html: path.join(outDir, "report.html"), json: path.join(outDir, "report.json") };
    writeFileAtomic(files.json, JSON.stringify(report, null, 2) + "\n");
    writeFileAtomic(files.html, startReportHtml(report));
    out(startSummary(report, files));
  },
};
