/**
 * `npm start`: the main job on built-in defaults — train a small SCD policy on the shipped Push-T
 * demonstrations within a few minutes, evaluate it in the simulator through the control loop, and write a report
 * (JSON + score plot + GIFs). `--full` runs the configuration behind the README's headline number instead.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend } from "../../backend/index.ts";
import { TrainConfig } from "../../train/config.ts";
import { train } from "../../train/train.ts";
import { evaluate } from "../../eval/evaluate.ts";
import { makeEnv } from "../../env/registry.ts";
import { loadPolicy } from "../../policy/learned.ts";
import { formatSummary } from "../../loop/metrics.ts";
import { writeFileAtomic } from "../../util/fsx.ts";
import { type Command, BACKEND_FLAG, out } from "../command.ts";
import "../../../envs/index.ts";

export const PUSHT_DATASET = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../datasets/pusht/pusht_human.scdd");

export const start: Command = {
  name: "start",
  summary: "the main job: train SCD on the shipped Push-T demonstrations (a few minutes), evaluate, write a report",
  usage: "[--minutes M] [--episodes N] [--out dir] [--full]",
  flags: {
    minutes: { type: "number", desc: "training time budget in minutes", default: 4 },
    steps: { type: "int", desc: "training steps (the schedule length)" },
    episodes: { type: "int", desc: "evaluation episodes (seeds from 100000)" },
    out: { type: "string", desc: "output directory" },
    full: { type: "boolean", desc: "the shipped checkpoint's run: 2000 steps, batch 64, 50 evaluation episodes (about 1 h here)" },
    ...BACKEND_FLAG,
  },
  async run(_pos, flags) {
    const rep = await initBackend((flags.backend as string) ?? process.env.SCD_BACKEND ?? null);
    const full = !!flags.full;
    const outDir = (flags.out as string) ?? path.join("runs", `start-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
    const episodes = (flags.episodes as number) ?? (full ? 50 : 20);
    const cfg = TrainConfig.parse({
      policy: "scd",
      policyConfig: { positionsPerWindow: 2, decoderDraws: 2 },
      dataset: PUSHT_DATASET,
      steps: (flags.steps as number) ?? (full ? 2000 : 400),
      batch: full ? 64 : 32,
      lr: 3e-4,
      warmup: full ? 150 : 50,
      out: outDir,
      valEvery: full ? 250 : 100,
      ckptEvery: full ? 250 : 100,
      ...(full ? {} : { maxSeconds: (flags.minutes as number) * 60 }),
    });
    process.stderr.write(`[1/2] training SCD on the 206 human Push-T demonstrations (${rep.backend} backend)${full ? "" : `, budget ${flags.minutes} min`} → ${outDir}\n`);
    const tr = await train(cfg);
    process.stderr.write(`[2/2] evaluating on pusht-v1, ${episodes} episodes from seed 100000\n`);
    const ckpt = tr.dir;
    const report = await evaluate({
      makeEnv: () => makeEnv("pusht-v1"),
      makePolicy: async () => loadPolicy(ckpt),
      episodes,
      seedStart: 100000,
      parallel: 10,
      loop: { strategy: { kind: "receding", execute: 8 }, latencyMs: "measured" },
      gifDir: path.join(outDir, "gifs"),
      gifEpisodes: 2,
      plotPath: path.join(outDir, "eval_scores.png"),
    });
    const full_report = { train: { ...tr, config: cfg }, eval: { env: "pusht-v1", seed_start: 100000, ...report } };
    fs.mkdirSync(outDir, { recursive: true });
    writeFileAtomic(path.join(outDir, "report.json"), JSON.stringify(full_report, null, 2) + "\n");
    const a = report.aggregated;
    out(
      [
        `SCD on Push-T: trained ${tr.step} steps in ${tr.seconds.toFixed(0)} s (${tr.numParams.toLocaleString("en")} parameters, final loss ${tr.trainLoss.toFixed(4)}${tr.valLoss !== null ? `, val ${tr.valLoss.toFixed(4)}` : ""})`,
        `evaluation (${a.n_episodes} episodes, seeds 100000…): mean score (avg_max_reward) ${a.avg_max_reward.toFixed(3)}, success ${a.pc_success.toFixed(1)} %`,
        formatSummary(report.loop).replace(/^/gm, "  "),
        `report:      ${path.join(outDir, "report.json")}`,
        `score plot:  ${report.files.plot}`,
        `loss curve:  ${path.join(outDir, "loss.png")}`,
        ...report.files.gifs.map((g) => `gif:         ${g}`),
        `checkpoint:  ${ckpt}   (npx scd eval --policy ${ckpt} --env pusht-v1 --episodes 50)`,
        full ? "" : `A few minutes of CPU training gives a weak policy; the README's table comes from longer runs (--full).`,
      ].join("\n"),
    );
  },
};
