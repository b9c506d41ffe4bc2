import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../src/envs/index.ts";
import "../src/policies/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { train } from "../src/train/train.ts";
import { TrainConfig } from "../src/train/config.ts";
import { lrMultiplier } from "../src/train/session.ts";
import { readWeights, readTrainState, readCheckpointMeta } from "../src/checkpoints/checkpoint.ts";
import { scd } from "./helpers.ts";
import { trainConfigFromFlags } from "../src/cli/commands/train.ts";
import { loadSweep } from "../src/sweep/grid.ts";
import { writeReachDemos } from "./demos.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-train-"));
const data = path.join(dir, "reach.scdd");
const tiny = { dModel: 32, encLayers: 1, decDModel: 16, decLayers: 1, horizon: 4, history: 4, positionsPerWindow: 2, decoderDraws: 2 };

test("setup: 12 expert demonstrations of the multimodal task", async () => {
  await initBackend("wasm");
  await writeReachDemos(data, 12);
});

const cfg = (out: string, steps: number) => TrainConfig.parse({ policy: "scd", policyConfig: tiny, dataset: data, steps, batch: 8, warmup: 2, valEvery: 2, ckptEvery: 2, out, valFraction: 0.2 });

test("a policy's own recipe defaults (scd: lr 1e-3) sit under flags, config files and sweep files", () => {
  assert.is(trainConfigFromFlags({ policy: "scd", out: dir }).lr, 1e-3);
  assert.is(trainConfigFromFlags({ out: dir }).lr, 1e-3, "scd is the default policy");
  assert.is(trainConfigFromFlags({ policy: "scd", lr: 2e-4, out: dir }).lr, 2e-4);
  assert.is(trainConfigFromFlags({ policy: "mlp-bc", out: dir }).lr, TrainConfig.parse({ dataset: "x", out: "y" }).lr);
  const cfgFile = path.join(dir, "lr.json");
  fs.writeFileSync(cfgFile, JSON.stringify({ policy: "scd", lr: 5e-4 }));
  assert.is(trainConfigFromFlags({ config: cfgFile, out: dir }).lr, 5e-4);
  // a misspelt key is refused, not silently ignored
  assert.throws(() => trainConfigFromFlags({ "policy-config": '{"histroy":2}', out: dir }), /training config: unknown key "policyConfig\.histroy" \(did you mean "policyConfig\.history"\?\)/);
  fs.writeFileSync(cfgFile, JSON.stringify({ stepz: 3 }));
  assert.throws(() => trainConfigFromFlags({ config: cfgFile, out: dir }), /training config: unknown key "stepz" \(did you mean "steps"\?\)/);
  const sweepFile = path.join(dir, "sweep.json");
  fs.writeFileSync(sweepFile, JSON.stringify({ train: { dataset: data, steps: 1 }, eval: { env: "reach-obstacle-v1" }, grid: { "train.policy": ["scd", "mlp-bc"] } }));
  const runs = loadSweep(sweepFile, {}).runs;
  assert.equal(runs.map((r) => r.train.lr), [1e-3, 3e-4]);
});

test("--resume with more steps: the new length's schedule from the resumed step, a warning with both rates; the rest exact", async () => {
  const a = path.join(dir, "a"), b = path.join(dir, "b");
  await train(cfg(a, 6), { quiet: true });
  await train(cfg(b, 3), { quiet: true });
  assert.is(readCheckpointMeta(path.join(b, "checkpoint")).step, 3);
  const warnings: string[] = [];
  await train(cfg(b, 6), { quiet: true, resume: true, warn: (l) => warnings.push(l) });
  assert.is(warnings.length, 1);
  assert.match(warnings[0], /^warning: steps 6 differs from the run's 3: from step 4 the learning rate follows the cosine schedule of a 6-step run \(2\.605e-4 at step 4, where the 3-step schedule had 3\.000e-5\); steps 1–3 kept theirs/);
  const lr = (d: string) => fs.readFileSync(path.join(d, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).lr as number);
  const [la, lb] = [lr(a), lr(b)];
  assert.equal(lb.slice(3), la.slice(3), "steps 4-6 follow the 6-step schedule");
  // warm-up 2: both schedules give steps 1-3 the same rates (0.5, 1, 1 × lr), so here the weights match bit for bit
  assert.equal(lb.slice(0, 3), la.slice(0, 3));
  const wa = readWeights(path.join(a, "checkpoint")), wb = readWeights(path.join(b, "checkpoint"));
  for (const k of Object.keys(wa)) assert.equal(Array.from(wb[k]), Array.from(wa[k]), k);
  const sa = readTrainState(path.join(a, "checkpoint")) as { step: number; rng: unknown }, sb = readTrainState(path.join(b, "checkpoint")) as { step: number; rng: unknown };
  assert.is(sb.step, 6);
  assert.equal(sb.rng, sa.rng);
  const lines = fs.readFileSync(path.join(b, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.map((l) => l.step), [1, 2, 3, 4, 5, 6]);
  assert.ok(fs.statSync(path.join(b, "loss.png")).size > 1000);
  // a fresh run into that directory would mix two runs: refused, nothing touched
  try {
    await train(cfg(b, 2), { quiet: true });
    assert.unreachable("a fresh run into a run directory was accepted");
  } catch (e) {
    assert.match((e as Error).message, /b: holds a training run already \(\d+ step checkpoints?, newest 000000006\); pass --resume/);
  }
  assert.is(readCheckpointMeta(path.join(b, "checkpoint")).step, 6);
  assert.is(fs.readFileSync(path.join(b, "metrics.jsonl"), "utf8").trim().split("\n").length, 6);
});

test("scd train (real CLI): progress, checkpoint, bad flags and configs are clear errors", () => {
  const out = path.join(dir, "cli");
  const r = scd(["train", "--policy", "mlp-bc", "--dataset", data, "--steps", "4", "--batch", "8", "--out", out, "--policy-config", '{"hidden":16,"horizon":4}']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /trained mlp-bc .* to step 4/);
  assert.ok(fs.existsSync(path.join(out, "checkpoint/weights.msgpack")));
  const e1 = scd(["train", "--policy", "scd", "--dataset", data, "--steps", "2", "--out", out + "2", "--policy-config", '{"dModel":30,"heads":4}']);
  assert.is(e1.code, 2);
  assert.match(e1.stderr, /invalid scd config: dModel: dModel 30 must be divisible by heads 4/);
  const e2 = scd(["train", "--policy", "sdc", "--dataset", data]);
  assert.match(e2.stderr, /unknown policy "sdc" \(did you mean "scd"\?\)/);
  const e3 = scd(["train", "--steps", "-5", "--dataset", data]);
  assert.match(e3.stderr, /flag --steps of "scd train" must be ≥ 1, got -5/);
  const e6 = scd(["eval", "--policy", path.join(out, "checkpoint"), "--env", "pusht-v1", "--episodes", "1"]);
  assert.is(e6.code, 2);
  assert.match(e6.stderr, /needs observation feature\(s\) observation.state, but env pusht-v1 provides observation.keypoints, observation.agent_pos/);
  const e4 = scd(["eval", "--policy", path.join(dir, "nope"), "--env", "reach-obstacle-v1"]);
  assert.match(e4.stderr, /neither a built-in policy/);
  fs.mkdirSync(path.join(dir, "broken"), { recursive: true });
  fs.writeFileSync(path.join(dir, "broken/checkpoint.json"), "{ not json");
  const e5 = scd(["eval", "--policy", path.join(dir, "broken"), "--env", "reach-obstacle-v1"]);
  assert.is(e5.code, 2);
  assert.match(e5.stderr, /checkpoint.json: corrupt JSON/);
});

test("--schedule time: the cosine follows the wall clock to --max-seconds, so the run ends on time with the rate decayed; --steps is a cap", async () => {
  assert.throws(() => TrainConfig.parse({ dataset: data, out: dir, schedule: "time" }), /--schedule time decays the learning rate over --max-seconds/);
  // the multiplier: warm-up caps it, then the time share drives the cosine (not the step count)
  const c = { warmup: 4, steps: 10, minLrFrac: 0.1 };
  assert.is(lrMultiplier(0, c, 0), 0.25);
  assert.is(lrMultiplier(8, c, 0.5), 0.55);
  assert.is(lrMultiplier(2, c, 1), 0.1);
  const out = path.join(dir, "timed");
  const budget = 6;
  const t0 = performance.now();
  const r = await train({ ...cfg(out, 100000), schedule: "time", maxSeconds: budget, ckptEvery: 0, valEvery: 0 }, { quiet: true });
  const took = (performance.now() - t0) / 1000;
  assert.ok(r.step > 2 && r.step < 100000, `stopped by time at step ${r.step}`);
  assert.ok(took >= budget && took < budget + 3, `ended after ${took.toFixed(1)} s of a ${budget} s budget`);
  const lines = fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const last = lines.at(-1);
  // the rate at the last step is within a step's share of the budget of the floor (0.1 × lr)
  const share = 1 / r.step + 0.05;
  assert.ok(last.lr <= 1e-3 * lrMultiplier(100, c, 1 - share) + 1e-12, `last lr ${last.lr}`);
  assert.ok(last.wallSeconds >= budget - 0.5 && last.wallSeconds <= budget + 2, `wallSeconds ${last.wallSeconds}`);
  // monotone after warm-up
  const lrs = lines.slice(2).map((m) => m.lr as number);
  assert.ok(lrs.every((v, i) => i === 0 || v <= lrs[i - 1] + 1e-15), "non-increasing after warm-up");
});

test.run();
