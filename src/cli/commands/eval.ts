import * as path from "node:path";
import { ScdError } from "../../errors.ts";
import { makeEnv } from "../../envs/registry.ts";
import { policyFactory } from "../../checkpoints/resolve.ts";
import { checkFeatures } from "../../policies/types.ts";
import { evaluate } from "../../eval/evaluate.ts";
import { parseShard, shardFromEnv, shardPath, shardSlice } from "../../eval/shard.ts";
import { formatSummary, allInferenceFailed } from "../../loop/metrics.ts";
import type { Strategy } from "../../loop/queue.ts";
import { Progress } from "../../util/progress.ts";
import { writeFileAtomic } from "../../util/fsx.ts";
import { checkOutput } from "../../util/outputs.ts";
import { recorderFor, datasetFormats, type DatasetFormat } from "../../datasets/formats.ts";
import { logEpisode } from "../../eval/record-log.ts";
import { initBackend } from "../../backend/index.ts";
import { type Command, BACKEND_FLAG, out } from "../command.ts";
import type { Flags } from "../args.ts";
import "../../envs/index.ts";

export const LOOP_FLAGS = {
  strategy: { type: "string", desc: "chunk execution: receding | ensemble | async | rtc (real-time chunking)", default: "receding" },
  execute: { type: "int", min: 1, desc: "receding and rtc: actions executed per chunk (default min(8, H))" },
  "rtc-delay": { type: "string", desc: "rtc: inference delay in ticks, frozen at the start of each chunk: <n> | auto (the last inference's; default: --latency <ms> in ticks, else auto)" },
  "rtc-soft-mask": { type: "int", min: 0, desc: "rtc: chunk indices after the frozen ones guided toward the queued plan with decaying weight (default: all it overlaps)" },
  "rtc-guidance": { type: "string", desc: "rtc: how the new chunk follows the plan: inpaint (gradient-free, every runtime) | pigdm (Black et al. 2025's guidance gradient; tfjs checkpoints of flow policies) (default inpaint)" },
  "rtc-beta": { type: "number", min: 0, desc: "rtc with --rtc-guidance pigdm: clip on the guidance weight (default 5)" },
  "ensemble-m": { type: "number", min: 0, desc: "temporal ensembling weight exp(-m·i)", default: 0.01 },
  "async-threshold": { type: "int", min: 0, desc: "async: replan when this many actions remain (default H/2)" },
  merge: { type: "string", desc: "async overlap merge: latest | average", default: "latest" },
  latency: { type: "string", desc: "virtual-clock inference latency: measured | <ms>", default: "measured" },
  "latency-first": { type: "number", desc: "virtual clock: the first chunk of each episode arrives after this many ms instead of --latency (a warm-up)", min: 0 },
  "deadline-ms": { type: "number", min: 0, desc: "how long a tick may wait for a chunk in flight (default period/2)" },
  steps: { type: "int", min: 1, desc: "denoising steps for diffusion policies (default: the policy's own, 10 for the shipped ones)" },
} as const;

/** The chunk execution strategy the flags ask for; `periodMs` (the control period) turns --latency <ms> into rtc's delay in ticks. */
export function strategyFromFlags(flags: Flags, horizon: number, periodMs?: number): Strategy {
  const s = flags.strategy as string;
  // receding and rtc: actions executed per chunk
  const execute = (): number => {
    const n = (flags.execute as number | undefined) ?? Math.min(8, horizon);
    if (!(n >= 1 && n <= horizon)) throw new ScdError(`--execute ${n} must be in 1..${horizon} (the policy's chunk length)`);
    return n;
  };
  if (s === "receding") return { kind: "receding", execute: execute() };
  if (s === "ensemble") return { kind: "ensemble", m: flags["ensemble-m"] as number };
  if (s === "async") {
    const t = (flags["async-threshold"] as number | undefined) ?? Math.floor(horizon / 2);
    if (!(t >= 0 && t < horizon)) throw new ScdError(`--async-threshold ${t} must be in 0..${horizon - 1}`);
    const merge = flags.merge as string;
    if (merge !== "latest" && merge !== "average") throw new ScdError(`--merge must be latest or average, got "${merge}"`);
    return { kind: "async", threshold: t, merge };
  }
  if (s === "rtc") {
    const n = execute();
    const latency = Number(flags.latency), period = periodMs ?? NaN;
    // the default from --latency <ms>: a delay longer than --execute runs the whole frozen part, so it is capped there
    const raw = (flags["rtc-delay"] as string | undefined) ?? (Number.isFinite(latency) && Number.isFinite(period) ? String(Math.min(n, Math.ceil(latency / period))) : "auto");
    const delay = raw === "auto" ? "auto" : Number(raw);
    if (delay !== "auto" && !(Number.isInteger(delay) && delay >= 0 && delay <= n)) throw new ScdError(`--rtc-delay must be auto or an integer in 0..${n} (--execute), got "${raw}"`, "bad-value");
    const guidance = flags["rtc-guidance"] as string | undefined;
    if (guidance !== undefined && guidance !== "inpaint" && guidance !== "pigdm") throw new ScdError(`--rtc-guidance must be inpaint or pigdm, got "${guidance}"`, "bad-value");
    return { kind: "rtc", execute: n, delay, ...(flags["rtc-soft-mask"] !== undefined ? { softMask: flags["rtc-soft-mask"] as number } : {}), ...(guidance ? { guidance } : {}), ...(flags["rtc-beta"] !== undefined ? { beta: flags["rtc-beta"] as number } : {}) };
  }
  throw new ScdError(`--strategy must be receding, ensemble, async or rtc, got "${s}"`);
}

/**
 * The log format `--record <file>` writes with `--profile`: json → by extension (.mcap: the Foxglove JSON log);
 * ros2 → a ROS 2 bag (the ros2-bag format's recorder), which needs a .mcap file.
 * @throws ScdError for another profile, or ros2 with a file not ending in .mcap.
 */
export function recordFormat(file: string, profile: string): DatasetFormat | null {
  if (profile === "json") return recorderFor(file);
  if (profile !== "ros2") throw new ScdError(`--profile must be json or ros2, got "${profile}"`);
  if (!file.endsWith(".mcap")) throw new ScdError(`--record ${file}: --profile ros2 writes a ROS 2 bag; name a file ending in .mcap`);
  return datasetFormats().find((f) => f.id === "ros2-bag" && f.recorder) ?? null;
}

export function latencyFromFlag(v: string): "measured" | number {
  if (v === "measured") return v;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ScdError(`--latency must be "measured" or a number of ms ≥ 0, got "${v}"`);
  return n;
}

export const evalCommand: Command = {
  name: "eval",
  summary: "evaluate a policy in a simulator through the control loop (Diffusion Policy protocol, LeRobot names)",
  usage: "--policy <expert|random|replay|checkpoint dir|ONNX export dir> --env <id> [--episodes N] [--seed-start S] [--json out|-] [--gif dir]",
  flags: {
    policy: { type: "string", desc: "built-in policy or checkpoint directory" },
    env: { type: "string", desc: "env id", default: "pusht-v1" },
    episodes: { type: "int", desc: "number of episodes", default: 50, min: 1 },
    "seed-start": { type: "int", min: 0, desc: "first seed (Push-T test seeds: 100000)", default: 100000 },
    json: { type: "string", desc: "write the JSON report to a file, or - for stdout" },
    gif: { type: "string", desc: "directory for GIFs of the first episodes" },
    "gif-episodes": { type: "int", min: 0, desc: "how many episodes get a GIF", default: 3 },
    plot: { type: "string", desc: "PNG plot of per-episode scores (default: beside --json)" },
    record: { type: "string", desc: "write what was executed: out.scdd (a dataset: observations, actions, timestamps, fallback flags) or out.mcap (a Foxglove log: ticks, chunks, loop events; --profile ros2: a ROS 2 bag)" },
    profile: { type: "string", desc: "--record's MCAP profile: json (Foxglove JSON log) | ros2 (a ROS 2 bag: CDR messages, ros2msg schemas)", default: "json" },
    map: { type: "string", desc: "with --profile ros2: a topic map whose topics and types the bag uses (default /observation/<feature>, /action)" },
    parallel: { type: "int", min: 1, desc: "episodes run in lockstep on one virtual clock", default: 10 },
    dataset: { type: "string", desc: "dataset for the replay policy" },
    "obs-mode": { type: "string", desc: "Push-T observation mode (keypoints | state)" },
    shard: { type: "string", desc: "evaluate shard K/N (0-based) of the seeds; default from SLURM_ARRAY_TASK_ID/COUNT" },
    shards: { type: "int", desc: "N shards for a Kubernetes Indexed Job (K = JOB_COMPLETION_INDEX)", min: 1 },
    ...LOOP_FLAGS,
    ...BACKEND_FLAG,
  },
  async run(_pos, flags) {
    if (!flags.policy) throw new ScdError(`eval needs --policy (expert, random, replay, or a checkpoint directory)`);
    const envId = flags.env as string;
    // loading and the first lockstep batch take a while before the first progress line: say what runs first
    if (process.env.SCD_QUIET !== "1") process.stderr.write(`eval: ${flags.policy} on ${envId}, ${flags.episodes} episodes from seed ${flags["seed-start"]}, latency ${flags.latency}; loading, then a progress line as episodes finish\n`);
    await initBackend((flags.backend as string) ?? process.env.SCD_BACKEND ?? null);
    const envOpts = flags["obs-mode"] ? { obsMode: flags["obs-mode"] } : {};
    const probe = await makeEnv(envId, envOpts);
    const make = await policyFactory(flags.policy as string, envId, probe.actionSpace, { dataset: flags.dataset as string | undefined });
    const p0 = await make();
    checkFeatures(p0, Object.keys(probe.observationSpace), `env ${envId}${flags["obs-mode"] ? ` (obs-mode ${flags["obs-mode"]})` : ""}`);
    const horizon = p0.horizon;
    p0.dispose?.();
    const n = flags.episodes as number;
    if (n < 1) throw new ScdError(`--episodes must be ≥ 1`);
    const shard = flags.shard !== undefined ? parseShard(flags.shard as string) : shardFromEnv(process.env, flags.shards as number | undefined);
    const slice = shard ? shardSlice(n, shard) : { start: 0, count: n };
    if (shard) process.stderr.write(`shard ${shard.index}/${shard.count}${"source" in shard ? ` (${shard.source})` : ""}: episodes ${slice.start}..${slice.start + slice.count - 1} of ${n}\n`);
    // each shard writes its own files (GIF names carry the global episode index already)
    const own = (f: string | undefined) => (shard && f && f !== "-" ? shardPath(f, shard) : f);
    const jsonOut = own(flags.json as string | undefined);
    const plotPath = own(flags.plot as string | undefined) ?? (jsonOut && jsonOut !== "-" ? path.join(path.dirname(jsonOut), path.basename(jsonOut, ".json") + "_scores.png") : undefined);
    // a report that cannot be written must fail now, not after the whole evaluation
    for (const [flag, f] of [["json", jsonOut], ["plot", plotPath], ["record", own(flags.record as string | undefined)]] as const) checkOutput(f, { flag, kind: "file" });
    checkOutput(flags.gif as string | undefined, { flag: "gif", kind: "dir", addsTo: true });
    // --profile ros2: the bag is written here from each finished episode's steps (evaluate records .scdd/.mcap itself)
    const recordPath = own(flags.record as string | undefined);
    const recFmt = recordPath ? recordFormat(recordPath, flags.profile as string) : null;
    if (flags.map && flags.profile !== "ros2") throw new ScdError(`--map applies to --record with --profile ros2`);
    let bag: import("../../datasets/formats.ts").LogRecorder | null = null;
    let bagBase = Date.now();
    if (recFmt && flags.profile === "ros2") {
      const topicMap = flags.map ? (await import("../../ros/topic-map.ts")).loadTopicMap(flags.map as string) : undefined;
      if (topicMap) (await import("../../ros/topic-map.ts")).checkMapAgainstPolicy(topicMap, { featureDims: Object.fromEntries(Object.entries(probe.observationSpace).map(([k, b]) => [k, b.low.length])), actionDim: probe.actionSpace.low.length }, flags.map as string);
      bag = await recFmt.recorder!(recordPath!, { env: envId, periodMs: 1000 / probe.metadata.controlHz, actionDim: probe.actionSpace.low.length, meta: { seedStart: flags["seed-start"], ...(topicMap ? { topicMap } : {}) } });
    }
    const bar = new Progress(`eval ${flags.policy} on ${envId}`, slice.count);
    let succ = 0, sumMax = 0;
    const report = await evaluate({
      makeEnv: () => makeEnv(envId, envOpts),
      makePolicy: make,
      episodes: slice.count,
      seedStart: (flags["seed-start"] as number) + slice.start,
      episodeIxStart: slice.start,
      keepLoopEvents: !!shard,
      parallel: flags.parallel as number,
      loop: {
        strategy: strategyFromFlags(flags, horizon, 1000 / probe.metadata.controlHz),
        latencyMs: latencyFromFlag(flags.latency as string),
        ...(flags["latency-first"] !== undefined ? { firstLatencyMs: flags["latency-first"] as number } : {}),
        ...(flags["deadline-ms"] !== undefined ? { deadlineMs: flags["deadline-ms"] as number } : {}),
        ...(flags.steps !== undefined ? { steps: flags.steps as number } : {}),
      },
      gifDir: flags.gif as string | undefined,
      gifEpisodes: flags["gif-episodes"] as number,
      plotPath,
      recordPath: bag ? undefined : recordPath,
      onEpisode: (done, r) => {
        if (bag) bagBase = logEpisode(bag, bagBase, 1000 / probe.metadata.controlHz, slice.start + done - 1, r);
        if (r.success) succ++;
        sumMax += r.maxReward;
        bar.update(done, `success ${succ}/${done}, mean score ${(sumMax / done).toFixed(3)}`);
      },
    });
    await bag?.close();
    if (bag) report.files.record = recordPath;
    // every report records its settings; a shard also carries them in `shard`, so `scd eval merge` can refuse a mismatched set
    const settings = Object.fromEntries(["obs-mode", "dataset", ...Object.keys(LOOP_FLAGS)].map((k) => [k, flags[k] ?? null]));
    const shardInfo = shard ? { shard: { index: shard.index, count: shard.count, episodes: n, settings } } : {};
    const json = JSON.stringify({ env: envId, policy: flags.policy, seed_start: flags["seed-start"], settings, ...report, ...shardInfo }, null, 2);
    // a run whose every inference failed is not a score of 0: exit non-zero with the first reason (after the report)
    const failed = allInferenceFailed(report.loop, `${flags.policy} on ${envId}`);
    if (jsonOut === "-") {
      out(json);
      if (failed) throw new ScdError(failed, "run-failed", 1);
      return;
    }
    if (jsonOut) writeFileAtomic(jsonOut, json + "\n");
    const a = report.aggregated;
    out(
      [
        `${flags.policy} on ${envId}, ${a.n_episodes} episodes from seed ${(flags["seed-start"] as number) + slice.start}${shard ? ` (shard ${shard.index}/${shard.count})` : ""}:`,
        `  avg_max_reward (mean score) ${a.avg_max_reward.toFixed(4)}   pc_success ${a.pc_success.toFixed(1)} %   avg_sum_reward ${a.avg_sum_reward.toFixed(2)}   eval_s ${a.eval_s.toFixed(1)}`,
        formatSummary(report.loop).replace(/^/gm, "  "),
        ...(jsonOut ? [`  report: ${jsonOut}`] : []),
        ...(report.files.plot ? [`  plot: ${report.files.plot}`] : []),
        ...report.files.gifs.map((g) => `  gif: ${g}`),
        ...(report.files.record ? [`  recording: ${report.files.record}`] : []),
      ].join("\n"),
    );
    if (failed) throw new ScdError(failed, "run-failed", 1);
  },
};

