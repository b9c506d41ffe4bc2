/**
 * The examples/slurm templates on a real one-node Slurm (Debian's slurmctld + slurmd + munge): a 4-task array
 * evaluates the reach expert in 4 shards, a dependent job merges them, and the merged report must equal a
 * single-process run; then a 2-run sweep array with its dependent report job. Fails (never skips) when the
 * cluster cannot start, with the daemons' log lines.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { startCluster, waitJob, type Cluster } from "./slurm-cluster.ts";
import { scd, ROOT } from "./helpers.ts";

let cluster: Cluster | null = null;
const need = (): Cluster => {
  if (!cluster) throw new Error("the Slurm cluster did not start (see the first test)");
  return cluster;
};
const SCD = `${process.execPath} ${path.join(ROOT, "bin/scd.js")}`;
const noArray = { SLURM_ARRAY_TASK_ID: "", JOB_COMPLETION_INDEX: "" };
const EPISODES = 8;

function submit(script: string, vars: Record<string, string>): Record<string, string> {
  const c = need();
  const r = spawnSync("bash", [path.join(ROOT, "examples/slurm", script)], { cwd: ROOT, encoding: "utf8", env: { ...c.env, ...noArray, SCD_QUIET: "1", SCD, ...vars }, timeout: 60_000 });
  assert.is(r.status, 0, `${script} failed: ${r.stderr}\n${c.logs()}`);
  return Object.fromEntries([...r.stdout.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], m[2]]));
}

const readLogs = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d).map((f) => `--- ${f}\n${fs.readFileSync(path.join(d, f), "utf8").slice(-2000)}`).join("\n") : `(no ${d})`);
const comparable = (r: { aggregated: Record<string, number>; per_episode: unknown; loop: { inferenceMs: { count: number } } }) => {
  const { eval_s: _a, eval_ep_s: _b, ...agg } = r.aggregated;
  return { agg, per_episode: r.per_episode, loop: { ...r.loop, inferenceMs: r.loop.inferenceMs.count } };
};

test("a one-node Slurm cluster comes up from Debian's packages", async () => {
  cluster = await startCluster();
  const r = spawnSync("sinfo", ["-h", "-o", "%P %T %c"], { env: cluster.env, encoding: "utf8" });
  assert.match(r.stdout, /^debug\* idle \d/);
});

test("examples/slurm/submit-eval.sh: a 4-task array + dependent merge equals a single-process evaluation", async () => {
  const c = need();
  const out = path.join(c.dir, "eval");
  const single = scd(["eval", "--policy", "expert", "--env", "reach-obstacle-v1", "--episodes", String(EPISODES), "--latency", "0", "--json", path.join(c.dir, "single.json")], noArray);
  assert.is(single.code, 0, single.stderr);
  const ids = submit("submit-eval.sh", { POLICY: "expert", ENV_ID: "reach-obstacle-v1", EPISODES: String(EPISODES), SHARDS: "4", OUT: out, EVAL_ARGS: "--latency 0" });
  const state = await waitJob(c, ids.merge, 900_000);
  assert.is(state, "COMPLETED", `merge job ${ids.merge}: ${state}\n${readLogs(path.join(out, "logs"))}\n${c.logs()}`);
  assert.is(await waitJob(c, ids.array, 10_000), "COMPLETED,COMPLETED,COMPLETED,COMPLETED");
  // each task found its shard in the array variables Slurm set
  const logs = readLogs(path.join(out, "logs"));
  for (let k = 0; k < 4; k++) assert.match(logs, new RegExp(`shard ${k}/4 \\(SLURM_ARRAY_TASK_ID=${k} of SLURM_ARRAY_TASK_COUNT=4\\)`));
  const read = (f: string) => JSON.parse(fs.readFileSync(f, "utf8"));
  for (let k = 0; k < 4; k++) assert.is(read(path.join(out, `eval.shard-${k}-of-4.json`)).per_episode.length, 2);
  const merged = read(path.join(out, "eval.json"));
  assert.equal(comparable(merged), comparable(read(path.join(c.dir, "single.json"))));
  assert.is(merged.aggregated.n_episodes, EPISODES);
});

test("examples/slurm/submit-sweep.sh: one array task per run, then the report job", async () => {
  const c = need();
  const data = path.join(c.dir, "reach.scdd");
  const col = scd(["collect", "reach-obstacle-v1", "--policy", "expert", "--episodes", "12", "--out", data]);
  assert.is(col.code, 0, col.stderr);
  const sweep = path.join(c.dir, "sweep.json");
  fs.writeFileSync(sweep, JSON.stringify({
    out: path.join(c.dir, "sw"),
    train: { policy: "mlp-bc", dataset: data, steps: 4, batch: 8, warmup: 1, valEvery: 2, ckptEvery: 2, valFraction: 0.2, policyConfig: { hidden: 16, horizon: 4 } },
    eval: { env: "reach-obstacle-v1", episodes: 2, latency: 0 },
    grid: { "train.lr": [1e-3, 3e-4] },
  }));
  const logs = path.join(c.dir, "sweep-logs");
  const ids = submit("submit-sweep.sh", { SWEEP: sweep, LOGS: logs });
  const state = await waitJob(c, ids.report, 900_000);
  assert.is(state, "COMPLETED", `report job ${ids.report}: ${state}\n${readLogs(logs)}\n${c.logs()}`);
  assert.is(await waitJob(c, ids.array, 10_000), "COMPLETED,COMPLETED", readLogs(logs));
  const rep = JSON.parse(fs.readFileSync(path.join(c.dir, "sw/report.json"), "utf8"));
  assert.equal(rep.rows.map((r: { index: number; step: number }) => [r.index, r.step]), [[0, 4], [1, 4]]);
  assert.equal(rep.unfinished, []);
  assert.match(readLogs(logs), /\| 1 \| 0\.0003 \| 4 \|/);
});

test.after(async () => {
  await cluster?.stop();
});

test.run();
