/**
 * `npm start`: within a wall-clock budget (default 10 min), show a Push-T policy doing the task and say which is which:
 *   A. the shipped checkpoint, evaluated on Diffusion Policy's test seeds, its best episodes re-run as GIFs;
 *   B. a policy trained just now with `scd train`'s defaults (the best recipe) for the rest of the budget, then
 *      evaluated the same way;
 * and one self-contained report.html with both side by side (plus report.json).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../../backend/index.ts";
import { PUSHT_DATASET, SHIPPED_PUSHT } from "../../assets.ts";
import { ScdError } from "../../errors.ts";
import { TrainConfig, withPolicyTrainDefaults } from "../../train/config.ts";
import { train, machineKind } from "../../train/train.ts";
import { plotLoss } from "../../train/plot.ts";
import { plotSeries } from "../../util/chart.ts";
import { evaluate, type EvalReport } from "../../eval/evaluate.ts";
import { makeEnv, envSpec } from "../../envs/registry.ts";
import { loadPolicy } from "../../checkpoints/load-checkpoint.ts";
import { readCheckpointMeta } from "../../checkpoints/checkpoint.ts";
import { writeFileAtomic } from "../../util/fsx.ts";
import { Progress, fmtTime } from "../../util/progress.ts";
import { type Command, BACKEND_FLAG, out } from "../command.ts";
import { startReportHtml, startSummary, minutes, type BestEpisode, type StartPart, type StartReport } from "../start-report.ts";
import "../../envs/index.ts";

// found from the package root, not a fixed "../../..": this module runs from src/ (checkout) and dist/src/ (installed)
export { PUSHT_DATASET, SHIPPED_PUSHT };
const ENV = "pusht-v1";
const SEED_START = 100000; // Diffusion Policy's Push-T test seeds
const PARALLEL = 10;
const GIF_SIZE = 256; // px: a 300-step GIF at 512 px is ~0.9 MB, and the report inlines every GIF

/** The records of a metrics.jsonl; a torn last line (a live run's) is skipped. */
function metricLines(file: string): Record<string, unknown>[] {
  return fs.readFileSync(file, "utf8").split("\n").filter(Boolean).flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Seconds of training steps behind a checkpoint: info.trainSeconds, else the last trainSeconds of a metrics.jsonl beside it. */
export function recordedTraining(dir: string, info: Record<string, unknown>): { seconds: number | null; source: string; metrics: string | null } {
  const metrics = [path.join(dir, "metrics.jsonl"), path.join(path.dirname(dir), "metrics.jsonl")].find((f) => fs.existsSync(f)) ?? null;
  if (typeof info.trainSeconds === "number") return { seconds: info.trainSeconds, source: "checkpoint.json info.trainSeconds", metrics };
  if (metrics) {
    const lines = metricLines(metrics);
    for (let i = lines.length - 1; i >= 0; i--) {
      const t = lines[i].trainSeconds;
      if (typeof t === "number") return { seconds: t, source: `trainSeconds in ${metrics}`, metrics };
    }
  }
  return { seconds: null, source: "not recorded in checkpoint.json nor in a metrics.jsonl beside it", metrics };
}

/**
 * Curves from a run's metrics.jsonl: the loss per step (loss.png), and the score of the periodic evaluations
 * (`scd train --eval-every`) against minutes of training (score_vs_time.png). Null where the metrics hold none.
 */
function curvesFromMetrics(metrics: string, dir: string, title: string): { loss: string | null; score: string | null } {
  const tr: [number, number][] = [], val: [number, number][] = [], score: [number, number][] = [];
  for (const m of metricLines(metrics)) {
    const step = m.step as number;
    if (typeof m.loss === "number") tr.push([step, m.loss]);
    if (typeof m.valLoss === "number") val.push([step, m.valLoss]);
    if (typeof m.evalAvgMaxReward === "number" && typeof m.trainSeconds === "number") score.push([m.trainSeconds / 60, m.evalAvgMaxReward]);
  }
  const files = { loss: tr.length ? path.join(dir, "loss.png") : null, score: score.length ? path.join(dir, "score_vs_time.png") : null };
  if (files.loss) plotLoss(files.loss, tr, val, title);
  if (files.score) plotSeries(files.score, [{ label: "mean score (periodic evaluation during training)", points: score, line: true }], { title: `${title}: score vs training time`, xLabel: "minutes of training steps", yLabel: "mean score", yMin: 0, yMax: 1 });
  return files;
}

/**
 * Evaluate a checkpoint on the test seeds (lockstep, latency 0), then re-run its `gifs` best episodes by seed with
 * recording. Returns the report, the chosen episodes, and the seconds each stage took.
 */
async function evalWithGifs(ckpt: string, dir: string, episodes: number, gifs: number, label: string): Promise<{ report: EvalReport; best: BestEpisode[]; seconds: [number, number]; execute: number }> {
  const p0 = loadPolicy(ckpt);
  const execute = Math.min(8, p0.horizon); // Diffusion Policy's receding horizon: 8 of each 16-action chunk
  p0.dispose();
  const loop = { strategy: { kind: "receding" as const, execute }, latencyMs: 0 };
  const t0 = performance.now();
  const bar = new Progress(`  ${label}: evaluating`, episodes);
  let sum = 0, succ = 0;
  const report = await evaluate({
    makeEnv: () => makeEnv(ENV),
    makePolicy: async () => loadPolicy(ckpt),
    episodes,
    seedStart: SEED_START,
    parallel: PARALLEL,
    loop,
    plotPath: path.join(dir, "eval_scores.png"),
    onEpisode: (done, r) => {
      sum += r.maxReward;
      succ += r.success ? 1 : 0;
      bar.update(done, `mean score ${(sum / done).toFixed(3)}, success ${succ}/${done}`);
    },
  });
  const t1 = performance.now();
  // the highest max_reward episodes (the earlier seed on ties), so the GIFs show the task done as well as it gets
  const chosen = [...report.per_episode].sort((a, b) => b.max_reward - a.max_reward || a.seed - b.seed).slice(0, gifs);
  const perBatch = (t1 - t0) / 1000 / Math.ceil(episodes / PARALLEL); // the re-run is one lockstep batch, plus rendering
  process.stderr.write(`  ${label}: recording GIFs of its ${chosen.length} best episodes (seeds ${chosen.map((c) => c.seed).join(", ")}), about ${fmtTime(perBatch * 1.5)}\n`);
  const rerun = chosen.length
    ? await evaluate({ makeEnv: () => makeEnv(ENV, { renderSize: GIF_SIZE }), makePolicy: async () => loadPolicy(ckpt), episodes: chosen.length, seedStart: chosen[0].seed, seeds: chosen.map((c) => c.seed), parallel: PARALLEL, loop, gifDir: path.join(dir, "gifs"), gifEpisodes: chosen.length })
    : null;
  const best = chosen.map((c, i) => {
    const r = rerun!.per_episode[i];
    return { seed: c.seed, max_reward: r.max_reward, success: r.success, reproduced: r.max_reward === c.max_reward, gif: rerun!.files.gifs[i] };
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
    gifs: { type: "int", desc: "GIFs per policy: its best-scoring episodes, re-run by seed", default: 3, min: 0 },
    out: { type: "string", desc: "output directory (default runs/start-<time>)" },
    checkpoint: { type: "string", desc: "the checkpoint shown as part A (default: the shipped one)" },
    "skip-train": { type: "boolean", desc: "only part A: evaluate the shipped checkpoint" },
    steps: { type: "int", desc: "cap part B's training at N steps (the schedule length; default: the recipe's)", min: 1 },
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
    const rep = await initBackend((flags.backend as string) ?? process.env.SCD_BACKEND ?? null);
    const outDir = (flags.out as string) ?? path.join("runs", `start-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
    const ckptA = (flags.checkpoint as string) ?? SHIPPED_PUSHT;
    const metaA = readCheckpointMeta(ckptA); // one clear error if it is missing or malformed
    const infoA = metaA.info as Record<string, unknown>;
    const trainedA = recordedTraining(ckptA, infoA);
    const cfgA = (infoA.trainConfig ?? {}) as Partial<TrainConfig>;
    const machineA = typeof infoA.machine === "string" ? infoA.machine : null;
    const phases: StartReport["phases"] = [];

    // ---- Part A: the shipped checkpoint
    const dirA = path.join(outDir, "shipped");
    process.stderr.write(`[1/3] A. shipped checkpoint ${ckptA} (step ${metaA.step}): ${episodes} Push-T episodes from seed ${SEED_START}, then GIFs of its ${nGifs} best (ETA below once the first ${Math.min(PARALLEL, episodes)} are done)\n`);
    const a = await evalWithGifs(ckptA, dirA, episodes, nGifs, "A (shipped)");
    const curvesA = trainedA.metrics ? curvesFromMetrics(trainedA.metrics, dirA, `${metaA.policy} (shipped checkpoint)`) : { loss: null, score: null };
    phases.push({ name: "A: evaluation", seconds: a.seconds[0] }, { name: "A: GIFs", seconds: a.seconds[1] });
    const shipped: StartPart = {
      title: `Shipped checkpoint (trained for ${trainedA.seconds === null ? "an unknown time" : minutes(trainedA.seconds)}${machineA ? ` on ${machineA}` : ", machine not recorded"}, step ${metaA.step})`,
      checkpoint: ckptA,
      step: metaA.step,
      trainSeconds: trainedA.seconds,
      trainSecondsSource: trainedA.source,
      machine: machineA,
      details: [
        `${metaA.policy}, ${metaA.numParams.toLocaleString("en")} parameters${cfgA.steps ? `, step ${metaA.step} of a ${cfgA.steps}-step schedule` : ""}${cfgA.batch ? `, batch ${cfgA.batch}` : ""}`,
        `policy config: ${JSON.stringify(metaA.config)}`,
        `evaluated with receding horizon: ${a.execute} actions executed per chunk`,
      ],
      eval: a.report,
      best: a.best,
      plot: a.report.files.plot ?? null,
      lossCurve: curvesA.loss,
      scoreCurve: curvesA.score,
    };

    // ---- Part B: a policy trained now with `scd train`'s defaults, for what the budget leaves after its evaluation
    let fresh: StartPart | null = null, freshSkipped: string | undefined;
    if (flags["skip-train"]) freshSkipped = "skipped (--skip-train)";
    else {
      // B's evaluation costs what A's did per simulated step; A's successes ended early, B's may run to the limit
      const fullLen = envSpec(ENV).maxEpisodeSteps ?? 300;
      const stepsA = a.report.per_episode.reduce((n, e) => n + e.steps, 0);
      const evalEstimate = (a.seconds[0] + a.seconds[1]) * Math.min(3, (episodes * fullLen) / Math.max(1, stepsA)) + 10; // + loading, the report
      const left = budget - since() - evalEstimate;
      const maxSeconds = Math.max(30, left);
      const dirB = path.join(outDir, "fresh");
      const cfgB = TrainConfig.parse(withPolicyTrainDefaults({ dataset: PUSHT_DATASET, out: dirB, maxSeconds, ...(flags.steps !== undefined ? { steps: flags.steps } : {}) }));
      const note = left < 30 ? ` (the budget is used up; training 30 s anyway: raise --minutes)` : "";
      process.stderr.write(
        `[2/3] B. training ${cfgB.policy} now with \`scd train\`'s defaults (the best recipe) for ${fmtTime(maxSeconds)}${note}, until about ${new Date(Date.now() + maxSeconds * 1000).toTimeString().slice(0, 8)} → ${dirB}\n` +
          `      the same as: npx scd train --max-seconds ${Math.round(maxSeconds)}${flags.steps !== undefined ? ` --steps ${cfgB.steps}` : ""} --out ${dirB}\n`,
      );
      const tr = await train(cfgB);
      phases.push({ name: "B: training", seconds: tr.seconds });
      process.stderr.write(`[3/3] B. evaluating the policy trained just now the same way (at most about ${fmtTime(evalEstimate)}: A's cost per step, every episode to its step limit)\n`);
      const b = await evalWithGifs(tr.dir, path.join(dirB, "eval"), episodes, nGifs, "B (trained now)");
      phases.push({ name: "B: evaluation", seconds: b.seconds[0] }, { name: "B: GIFs", seconds: b.seconds[1] });
      const metaB = readCheckpointMeta(tr.dir);
      const trainedB = recordedTraining(tr.dir, metaB.info as Record<string, unknown>);
      fresh = {
        title: `Trained just now for ${minutes(tr.seconds)} with the best recipe (\`scd train\` defaults), step ${tr.step}`,
        checkpoint: tr.dir,
        step: tr.step,
        trainSeconds: trainedB.seconds,
        trainSecondsSource: `${trainedB.source}: training steps only; ${tr.seconds.toFixed(0)} s wall-clock with data loading, validation and checkpoints`,
        machine: `${machineKind()} (this machine), ${rep.backend} backend`,
        details: [
          `${cfgB.policy}, ${tr.numParams.toLocaleString("en")} parameters, step ${tr.step} of a ${cfgB.steps}-step schedule (stopped by ${tr.step >= cfgB.steps ? "the schedule's end" : "the time budget"}), batch ${cfgB.batch}, lr ${cfgB.lr}`,
          `final loss ${tr.trainLoss.toFixed(4)}${tr.valLoss !== null ? `, validation ${tr.valLoss.toFixed(4)}` : ""}`,
          `policy config: ${JSON.stringify(metaB.config)}`,
          `evaluated with receding horizon: ${b.execute} actions executed per chunk`,
        ],
        eval: b.report,
        best: b.best,
        plot: b.report.files.plot ?? null,
        lossCurve: fs.existsSync(path.join(dirB, "loss.png")) ? path.join(dirB, "loss.png") : null,
        scoreCurve: null, // no periodic evaluation: the budget goes to training
      };
    }

    // ---- the report
    const report: StartReport = {
      createdAt: new Date().toISOString(),
      machine: machineKind(),
      backend: rep.backend,
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
