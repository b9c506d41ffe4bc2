import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import "../src/envs/index.ts";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { loadSweep } from "../src/sweep/grid.ts";
import { scd, ROOT } from "./helpers.ts";
import { writeReachDemos } from "./demos.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-sweep-"));
const data = path.join(dir, "reach.scdd");
const tinyTrain = { policy: "mlp-bc", dataset: data, steps: 4, batch: 8, warmup: 1, valEvery: 2, ckptEvery: 2, valFraction: 0.2, policyConfig: { hidden: 16, horizon: 4 } };
const grid = path.join(dir, "grid.json");
const write = (f: string, o: unknown) => (fs.writeFileSync(f, JSON.stringify(o)), f);
const noArray = { SLURM_ARRAY_TASK_ID: "", JOB_COMPLETION_INDEX: "" };

test("setup: 12 expert demonstrations of the multimodal task", async () => {
  await initBackend("wasm");
  await writeReachDemos(data, 12);
  write(grid, { out: path.join(dir, "sw"), train: tinyTrain, eval: { env: "reach-obstacle-v1", episodes: 3, latency: 0 }, grid: [{ "train.lr": [1e-3, 3e-4] }, { "train.seed": [7], "eval.execute": [2], "train.policyConfig.hidden": [8] }] });
});

test("a grid expands into numbered runs: train-config overrides + eval settings, validated up front", () => {
  const s = loadSweep(grid);
  assert.is(s.runs.length, 3);
  assert.equal(s.axes, ["train.lr", "train.seed", "eval.execute", "train.policyConfig.hidden"]);
  assert.equal(s.runs.map((r) => r.train.lr), [1e-3, 3e-4, 3e-4]);
  assert.equal([s.runs[2].train.seed, s.runs[2].eval.execute, s.runs[2].train.policyConfig], [7, 2, { hidden: 8, horizon: 4 }]);
  assert.is(s.runs[1].dir, path.join(dir, "sw", "run-001"));
  assert.is(s.runs[1].train.out, s.runs[1].dir);
  const bad = (o: object) => () => loadSweep(write(path.join(dir, "bad.json"), { train: tinyTrain, eval: { env: "reach-obstacle-v1" }, ...o }));
  assert.throws(bad({ grid: { "train.lr": [1e-3, -1] } }), /bad\.json: run 1 \(lr=-1\): train\.lr: /);
  assert.throws(bad({ grid: { "lr": [1] } }), /bad\.json: field grid\.lr: keys are dotted paths/);
  assert.throws(bad({ grid: { "eval.strategy": ["fast"] } }), /run 0 \(strategy="fast"\): eval\.strategy: /);
  assert.throws(bad({ train: { ...tinyTrain, out: "x" } }), /field train\.out: the sweep sets each run's directory/);
  assert.throws(bad({ grid: { "train.policyConfig.hidden": [16, 0] } }), /run 1 \(hidden=0\): train\.policyConfig: invalid mlp-bc config: hidden: /);
  // a typo is refused as `scd train --config` refuses it, not silently trained as the default
  assert.throws(bad({ grid: { "train.lrr": [1e-3, 3e-4] } }), /bad\.json: run 0 \(lrr=0\.001\): unknown key "train\.lrr" \(did you mean "train\.lr"\?\)/);
  assert.throws(bad({ grid: { "train.policyConfig.hiden": [8] } }), /run 0 \(hiden=8\): unknown key "train\.policyConfig\.hiden" \(did you mean "train\.policyConfig\.hidden"\?\)/);
  assert.throws(bad({ train: { ...tinyTrain, stepz: 3 } }), /run 0 \(\(base\)\): unknown key "train\.stepz"/);
  assert.throws(bad({ grid: { "eval.env": ["reach-obstacle-v1", "reach-obstcle-v1"] } }), /run 1 \(env="reach-obstcle-v1"\): eval\.env: unknown env "reach-obstcle-v1" \(did you mean "reach-obstacle-v1"\?\)/);
  assert.throws(bad({ grid: { "train.dataset": [data, path.join(dir, "missing.scdd")] } }), /run 1 \(dataset=.*\): train\.dataset: no such file or folder/);
  assert.throws(bad({ grid: { "train.out": ["a", "b"] } }), /field grid\.train\.out: the sweep sets each run's directory/);
});

test("scd sweep / sweep run / sweep report: runs by index or array variable, finished runs are left alone, unfinished ones noted", () => {
  const list = scd(["sweep", grid]);
  assert.is(list.code, 0, `exit ${list.code}: ${list.stderr} ${list.stdout}`);
  assert.match(list.stdout, /3 run\(s\)/);
  assert.match(list.stdout, /2  seed=7 execute=2 hidden=8/);
  assert.is(scd(["sweep", grid, "--count"]).stdout.trim(), "3");
  const r0 = scd(["sweep", "run", grid, "--index", "0"], noArray);
  assert.is(r0.code, 0, r0.stderr);
  assert.match(r0.stdout, /run 0 finished/);
  const again = scd(["sweep", "run", grid, "--index", "0"], noArray);
  assert.match(again.stdout, /run 0 already finished/);
  const r1 = scd(["sweep", "run", grid], { SLURM_ARRAY_TASK_ID: "1" });
  assert.is(r1.code, 0, r1.stderr);
  const ev = JSON.parse(fs.readFileSync(path.join(dir, "sw/run-001/eval.json"), "utf8"));
  assert.is(ev.per_episode.length, 3);
  const tr = JSON.parse(fs.readFileSync(path.join(dir, "sw/run-001/train.json"), "utf8"));
  assert.equal([tr.step, tr.stopped, tr.attempts], [4, "steps", 1]);
  const rep = scd(["sweep", "report", grid]);
  assert.is(rep.code, 0, rep.stderr);
  assert.match(rep.stdout, /\| run \| train\.lr \| train\.seed \| eval\.execute \| train\.policyConfig\.hidden \| steps \| train time \| mean score \| success \| episodes \| inference ms \(p50\) \|/);
  assert.match(rep.stdout, /\n\| 1 \| 0\.0003 \|  \|  \|  \| 4 \| \d+ s \| \d\.\d{3} \| \d+ % \| 3 \| \d+\.\d\d \|/);
  assert.match(rep.stdout, /run 2 skipped: not started/);
  assert.match(rep.stdout, /2 of 3 run\(s\) finished/);
  assert.ok(fs.statSync(path.join(dir, "sw/report.png")).size > 1000);
  const j = JSON.parse(fs.readFileSync(path.join(dir, "sw/report.json"), "utf8"));
  assert.equal(j.rows.map((r: { index: number }) => r.index), [0, 1]);
  assert.is(j.rows[1].avg_max_reward, ev.aggregated.avg_max_reward);
  const none = scd(["sweep", "run", grid, "--index", "3"]);
  assert.is(none.code, 2);
  assert.match(none.stderr, /has 3 run\(s\), 0\.\.2; there is no run 3/);
  fs.writeFileSync(grid, fs.readFileSync(grid, "utf8").replace('"steps":4', '"steps":5'));
  const edited = scd(["sweep", "run", grid, "--index", "0"]);
  assert.is(edited.code, 2);
  assert.match(edited.stderr, /run-000\/run\.json holds different settings than run 0/);
});

test("an interrupted run resumes from its checkpoint, and its wall-clock budget counts every attempt", async () => {
  const budget = write(path.join(dir, "budget.json"), { out: path.join(dir, "bw"), train: { ...tinyTrain, steps: 1_000_000, maxSeconds: 8, ckptEvery: 1, valEvery: 0 }, eval: { env: "reach-obstacle-v1", episodes: 2, latency: 0 } });
  const ckpt = path.join(dir, "bw/run-000/checkpoint/checkpoint.json");
  const t0 = Date.now();
  // first attempt: killed (as a preempted or timed-out job would be) as soon as it has a checkpoint
  const child = spawn(process.execPath, [path.join(ROOT, "bin/scd.js"), "sweep", "run", budget, "--index", "0"], { cwd: ROOT, env: { ...process.env, ...noArray, SCD_QUIET: "1" }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise((r) => child.once("exit", r));
  let killedAt = 0;
  while (child.exitCode === null && Date.now() - t0 < 600_000) {
    await new Promise((r) => setTimeout(r, 50));
    if (fs.existsSync(ckpt) && (killedAt = JSON.parse(fs.readFileSync(ckpt, "utf8")).step) >= 1) break;
  }
  child.kill("SIGKILL");
  await exited;
  assert.ok(killedAt >= 1, `the first attempt checkpointed step ${killedAt} (exit ${child.exitCode}: ${stderr})`);
  assert.not.ok(fs.existsSync(path.join(dir, "bw/run-000/train.json")), "the first attempt was killed before it finished training");
  const r = scd(["sweep", "run", budget, "--index", "0"], noArray);
  const elapsed = (Date.now() - t0) / 1000;
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /run 0: resuming mlp-bc \(budget left \d+ s\)/);
  const tr = JSON.parse(fs.readFileSync(path.join(dir, "bw/run-000/train.json"), "utf8"));
  assert.equal([tr.stopped, tr.attempts], ["budget", 2]);
  assert.ok(tr.step > killedAt, `step ${tr.step} after resuming from ${killedAt}`);
  // the budget is spent (over both attempts), and no second of it is counted twice
  assert.ok(tr.seconds >= 8 && tr.seconds <= elapsed, `train time over both attempts ${tr.seconds} s (budget 8 s, wall time ${elapsed} s)`);
  const steps = fs.readFileSync(path.join(dir, "bw/run-000/metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).step);
  assert.equal(steps, Array.from({ length: tr.step }, (_, i) => i + 1));
  assert.ok(fs.existsSync(path.join(dir, "bw/run-000/eval.json")));
});

test.run();
