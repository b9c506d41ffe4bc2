import { ScdError } from "../../errors.ts";
import { makeEnv, envIds, envSpec } from "../../envs/registry.ts";
import { loadDataset } from "../../datasets/load.ts";
import { writePng, writeGif } from "../../util/image.ts";
import { Progress } from "../../util/progress.ts";
import { builtinPolicy } from "../../policies/builtin.ts";
import { rollout } from "../../eval/rollout.ts";
import { DatasetWriter } from "../../datasets/native.ts";
import { type Command, out } from "../command.ts";
import { checkOutput } from "../../util/outputs.ts";
import "../../envs/index.ts";

const OBS_MODE = { "obs-mode": { type: "string", desc: "Push-T observation mode: keypoints | state" } } as const;
const envOptions = (flags: Record<string, unknown>) => (flags["obs-mode"] ? { obsMode: flags["obs-mode"] } : {});

export const envList: Command = {
  name: "env list",
  summary: "registered environments",
  usage: "",
  flags: {},
  async run() {
    out(envIds().map((id) => `${id.padEnd(20)} ${envSpec(id).description}`).join("\n"));
  },
};

export const envReset: Command = {
  name: "env reset",
  summary: "reset an env with a seed and print the drawn state and observation",
  usage: "<env id> --seed S [--json]",
  minPositional: 1,
  flags: { seed: { type: "int", desc: "reset seed", default: 0, min: 0 }, json: { type: "boolean", desc: "print JSON" }, ...OBS_MODE },
  async run([id], flags) {
    const env = await makeEnv(id, envOptions(flags));
    const seed = flags.seed as number;
    const { obs, info } = env.reset({ seed });
    const o = Object.fromEntries(Object.entries(obs).map(([k, v]) => [k, Array.from(v)]));
    const obj = { seed, resetState: info.resetState ?? null, state: info.state ?? null, obs: o };
    out(flags.json ? JSON.stringify(obj) : Object.entries(obj).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n"));
  },
};

export const envRender: Command = {
  name: "env render",
  summary: "render an env after reset to a PNG",
  usage: "<env id> --seed S --out frame.png",
  minPositional: 1,
  flags: { seed: { type: "int", desc: "reset seed", default: 0, min: 0 }, out: { type: "string", desc: "output PNG path", default: "frame.png" } },
  async run([id], flags) {
    checkOutput(flags.out as string, { flag: "out", kind: "file" });
    const env = await makeEnv(id);
    env.reset({ seed: flags.seed as number });
    writePng(flags.out as string, env.render());
    out(`wrote ${flags.out}`);
  },
};

export const envRollout: Command = {
  name: "env rollout",
  summary: "run a built-in policy for one episode and write a GIF",
  usage: "<env id> --policy expert|random --seed S --gif out.gif",
  minPositional: 1,
  flags: { policy: { type: "string", desc: "built-in policy", default: "random" }, seed: { type: "int", desc: "seed", default: 0, min: 0 }, gif: { type: "string", desc: "output GIF", default: "rollout.gif" } },
  async run([id], flags) {
    checkOutput(flags.gif as string, { flag: "gif", kind: "file" });
    const env = await makeEnv(id);
    const policy = await builtinPolicy(flags.policy as string, id, env.actionSpace);
    const r = await rollout(env, policy, flags.seed as number, { render: true });
    writeGif(flags.gif as string, r.frames, env.metadata.controlHz);
    out(`wrote ${flags.gif}: ${r.steps} steps, success ${r.success}, max reward ${r.maxReward.toFixed(3)}`);
  },
};

export const envReplay: Command = {
  name: "env replay",
  summary: "replay recorded Push-T demonstrations open-loop and report the fidelity figures",
  usage: "pusht-v1 --dataset <zarr or .scdd> [--json] [--episodes N]",
  minPositional: 1,
  flags: { dataset: { type: "string", desc: "demonstrations (Zarr or native)" }, json: { type: "boolean", desc: "print one JSON object" }, episodes: { type: "int", desc: "only the first N episodes", min: 1 } },
  async run([id], flags) {
    if (id !== "pusht-v1") throw new ScdError(`env replay supports pusht-v1 (got "${id}")`);
    if (!flags.dataset) throw new ScdError(`env replay needs --dataset <zarr dir or .scdd file>`);
    const { buffer } = await loadDataset(flags.dataset as string);
    const n = Math.min((flags.episodes as number | undefined) ?? buffer.episodeEnds.length, buffer.episodeEnds.length);
    const { replayPushT } = await import("../../envs/pusht/replay.ts");
    const bar = new Progress("replay", n);
    const r = replayPushT(buffer, { episodes: [...Array(n).keys()], onEpisode: (k) => bar.update(k + 1) });
    const { perEpisode, ...summary } = r;
    if (flags.json) return out(JSON.stringify({ ...summary, perEpisode }, null, 2));
    const f = (x: { median: number; p90: number }, d = 3) => `median ${x.median.toExponential(d)}, p90 ${x.p90.toExponential(d)}`;
    out(
      [
        `replayed ${r.episodes} demonstrations (${r.steps} steps) of ${flags.dataset}`,
        `block position error, all steps (px): ${f(r.positionErrorPx)}`,
        `block angle error, all steps (rad):   ${f(r.angleErrorRad)}`,
        `block position error at episode end (px): ${f(r.endPositionErrorPx)}`,
        `block angle error at episode end (rad):   ${f(r.endAngleErrorRad)}`,
        `success agreement (coverage > 0.95 after the last action): ${(100 * r.successAgreement).toFixed(1)} %`,
        `coverage after the last action: median ${r.finalCoverage.median.toFixed(3)}; the dataset's own last recorded state: median ${r.recordedFinalCoverage.median.toFixed(3)}`,
        `reset(seed = episode index) reproduces the first recorded state: ${r.resetMatches}/${r.episodes}`,
      ].join("\n"),
    );
  },
};

export const collect: Command = {
  name: "collect",
  summary: "record demonstrations of a built-in policy into a native dataset",
  usage: "<env id> --policy expert --episodes N --out file.scdd [--seed-start S]",
  minPositional: 1,
  flags: {
    policy: { type: "string", desc: "built-in policy (expert, random)", default: "expert" },
    episodes: { type: "int", desc: "number of episodes", default: 100, min: 1 },
    out: { type: "string", desc: "output .scdd file" },
    "seed-start": { type: "int", desc: "first seed", default: 0, min: 0 },
    "successful-only": { type: "boolean", desc: "keep only successful episodes" },
    force: { type: "boolean", desc: "overwrite the output" },
  },
  async run([id], flags) {
    const outPath = flags.out as string | undefined;
    if (!outPath) throw new ScdError(`collect needs --out <file.scdd>`);
    checkOutput(outPath, { flag: "out", kind: "file", force: !!flags.force });
    const env = await makeEnv(id);
    const policy = await builtinPolicy(flags.policy as string, id, env.actionSpace);
    const schema = Object.fromEntries([...Object.entries(env.observationSpace).map(([k, b]) => [k, { shape: b.shape }]), ["action", { shape: env.actionSpace.shape }]]);
    const w = new DatasetWriter(outPath, schema, { env: id, policy: flags.policy, seedStart: flags["seed-start"], createdAt: new Date().toISOString() });
    const n = flags.episodes as number;
    const bar = new Progress("collect", n);
    let kept = 0, succ = 0;
    try {
      for (let i = 0; i < n; i++) {
        const r = await rollout(env, policy, (flags["seed-start"] as number) + i);
        if (r.success) succ++;
        if (r.success || !flags["successful-only"]) {
          w.appendEpisode(r.episode);
          kept++;
        }
        bar.update(i + 1, `success ${succ}/${i + 1}`);
      }
      w.finalize();
    } catch (e) {
      w.abort();
      throw e;
    }
    out(`wrote ${outPath}: ${kept} episodes (${succ}/${n} successful)`);
  },
};
