/**
 * Robustness 8 and 11: every flag given with --resume applies or is refused by name; a kill -9 at any moment of
 * training never loses the ability to resume, and the resumed run ends bit for bit where an uninterrupted one does.
 * Real CLI processes, tiny models (CI has 2 cores).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import "../src/envs/index.ts";
import { initBackend } from "../src/backend/index.ts";
import { readWeights, readTrainState, readCheckpointMeta } from "../src/checkpoints/checkpoint.ts";
import { findResumeCheckpoint, saveRunCheckpoint, isCompleteCheckpoint } from "../src/checkpoints/run-dir.ts";
import { ROOT, scd } from "./helpers.ts";
import { writeReachDemos } from "./demos.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-resume-"));
const data = path.join(dir, "reach.scdd");
const mlp = ["--policy", "mlp-bc", "--policy-config", '{"hidden":16,"horizon":4}', "--batch", "4", "--backend", "wasm"];
const metrics = (out: string) => fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));

test("setup: 8 expert demonstrations of the reaching task", async () => {
  await initBackend("wasm");
  await writeReachDemos(data, 8);
});

test("--keep-every keeps every N-th step's checkpoint besides the newest 3 (a curve can score them later)", () => {
  const out = path.join(dir, "keep");
  const r = scd(["train", ...mlp, "--dataset", data, "--steps", "9", "--ckpt-every", "1", "--keep-every", "4", "--val-every", "0", "--out", out]);
  assert.is(r.code, 0, r.stderr);
  const kept = fs.readdirSync(path.join(out, "checkpoints")).filter((n) => /^\d+$/.test(n)).map(Number);
  assert.equal(kept, [4, 7, 8, 9]);
  for (const s of kept) assert.ok(isCompleteCheckpoint(path.join(out, "checkpoints", String(s).padStart(9, "0"))), `step ${s} loadable`);
});

test("robustness 8: --val-every and --ckpt-every given with --resume apply; flags that define the run are refused", () => {
  const out = path.join(dir, "flags");
  const a = scd(["train", ...mlp, "--dataset", data, "--steps", "2", "--out", out]);
  assert.is(a.code, 0, a.stderr);
  const r = scd(["train", ...mlp, "--dataset", data, "--resume", "--out", out, "--steps", "6", "--val-every", "1", "--ckpt-every", "1"]);
  assert.is(r.code, 0, r.stderr);
  const m = metrics(out);
  assert.equal(m.map((l) => l.step), [1, 2, 3, 4, 5, 6]);
  for (const l of m.slice(2)) assert.type(l.valLoss, "number", `validation at step ${l.step} (--val-every 1)`);
  const kept = fs.readdirSync(path.join(out, "checkpoints")).filter((n) => /^\d+$/.test(n)).map(Number);
  assert.equal(kept, [4, 5, 6], "a checkpoint every step (--ckpt-every 1), the newest 3 kept");
  const cfg = readCheckpointMeta(path.join(out, "checkpoint")).info.trainConfig as Record<string, unknown>;
  assert.equal([cfg.valEvery, cfg.ckptEvery, cfg.steps], [1, 1, 6]);
  // resumed at its final step: nothing to train, and the report gives the last recorded losses (it printed NaN)
  const done = scd(["train", ...mlp, "--dataset", data, "--resume", "--out", out, "--steps", "6"]);
  assert.is(done.code, 0, done.stderr);
  assert.match(done.stdout, new RegExp(`to step 6 .*: loss ${m[5].loss.toFixed(4)}, val ${m[5].valLoss.toFixed(4)}`));
  const seed = scd(["train", ...mlp, "--dataset", data, "--resume", "--out", out, "--steps", "8", "--seed", "7"]);
  assert.is(seed.code, 2);
  assert.match(seed.stderr, /^scd: error: --seed cannot change on --resume \(.*\): .*checkpoints\/000000006 has 0, given 7\n$/);
  const arch = scd(["train", ...mlp, "--dataset", data, "--resume", "--out", out, "--policy-config", '{"hidden":32}']);
  assert.match(arch.stderr, /--policy-config cannot change on --resume \(the weights have this architecture\)/);
  const back = scd(["train", ...mlp, "--dataset", data, "--resume", "--out", out, "--steps", "3"]);
  assert.match(back.stderr, /--steps 3 is below the step of .*000000006 \(6\)/);
  const none = scd(["train", ...mlp, "--dataset", data, "--resume", "--out", path.join(dir, "empty")]);
  assert.match(none.stderr, /--resume: .*empty holds no complete checkpoint/);
});

test("step checkpoints: a legacy checkpoint/ directory is migrated; an incomplete newest step is skipped on resume", () => {
  const out = path.join(dir, "flags");
  const legacy = path.join(dir, "legacy");
  fs.mkdirSync(legacy);
  fs.cpSync(path.join(out, "checkpoints/000000005"), path.join(legacy, "checkpoint"), { recursive: true });
  assert.is(findResumeCheckpoint(legacy), path.join(legacy, "checkpoint"));
  const c6 = path.join(out, "checkpoints/000000006");
  saveRunCheckpoint(legacy, readCheckpointMeta(c6), readWeights(c6), readTrainState(c6));
  assert.ok(fs.lstatSync(path.join(legacy, "checkpoint")).isSymbolicLink());
  assert.equal(fs.readdirSync(path.join(legacy, "checkpoints")).sort(), ["000000005", "000000006"]);
  fs.rmSync(path.join(legacy, "checkpoints/000000006/train_state.msgpack"));
  assert.not.ok(isCompleteCheckpoint(path.join(legacy, "checkpoints/000000006")));
  assert.is(findResumeCheckpoint(legacy), path.join(legacy, "checkpoints/000000005"));
});

/** Start a training process; resolve with its exit code, or kill it -9 at a random moment after it saved a checkpoint. */
function trainUntilKilled(cfg: Record<string, unknown>, resume: boolean, rand: (() => number) | null): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx/esm", path.join(ROOT, "test/fixtures/train-child.ts"), JSON.stringify(cfg), resume ? "resume" : ""], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "", killed = false;
    p.stderr.on("data", (d) => (stderr += d));
    const pointer = path.join(cfg.out as string, "checkpoint");
    const target = () => (fs.existsSync(pointer) && fs.lstatSync(pointer).isSymbolicLink() ? fs.readlinkSync(pointer) : null);
    const before = target();
    // once this process has saved a checkpoint (it resumed and trained), kill it somewhere in the next steps:
    // computing, writing a checkpoint's files, renaming it in, replacing the pointer, pruning, appending metrics
    const poll = setInterval(() => {
      const now = target();
      if (rand && now !== null && now !== before) {
        clearInterval(poll);
        setTimeout(() => ((killed = true), p.kill("SIGKILL")), rand() * 150);
      }
    }, 5);
    p.on("exit", (code) => (clearInterval(poll), resolve({ killed, code, stderr })));
  });
}

test("robustness 11: kill -9 at 20 random moments, resume each time: 20/20 resume, final weights equal an uninterrupted run's", async () => {
  const steps = 100;
  const policyConfig = { dModel: 16, heads: 2, encLayers: 1, decDModel: 16, decLayers: 1, horizon: 4, history: 4, positionsPerWindow: 1, decoderDraws: 1 };
  const cfg = (out: string) => ({ policy: "scd", policyConfig, dataset: data, steps, batch: 4, warmup: 10, ckptEvery: 1, valEvery: 25, valFraction: 0.25, out });
  const ref = path.join(dir, "uninterrupted"), out = path.join(dir, "killed");
  const r = await trainUntilKilled(cfg(ref), false, null);
  assert.is(r.code, 0, r.stderr);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let kills = 0, resumes = 0;
  for (let i = 0; i < 20; i++) {
    const res = await trainUntilKilled(cfg(out), i > 0, rand);
    assert.ok(res.killed, `run ${i} exited ${res.code} without being killed: ${res.stderr}`);
    kills++;
    if (i > 0) resumes++; // it resumed (and saved a new checkpoint) before this kill
    findResumeCheckpoint(out); // throws if no complete checkpoint survived the kill
  }
  const last = await trainUntilKilled(cfg(out), true, null);
  assert.is(last.code, 0, last.stderr);
  resumes++;
  assert.equal([kills, resumes], [20, 20]);
  const [wa, wb] = [readWeights(path.join(ref, "checkpoint")), readWeights(path.join(out, "checkpoint"))];
  for (const k of Object.keys(wa)) assert.equal(Array.from(wb[k]), Array.from(wa[k]), `EMA weights ${k}`);
  const [sa, sb] = [readTrainState(path.join(ref, "checkpoint")), readTrainState(path.join(out, "checkpoint"))] as { params: Record<string, Float32Array>; step: number }[];
  assert.is(sb.step, steps);
  for (const k of Object.keys(sa.params)) assert.equal(Array.from(sb.params[k]), Array.from(sa.params[k]), `raw weights ${k}`);
  assert.equal(metrics(out).map((l) => l.step), Array.from({ length: steps }, (_, i) => i + 1), "metrics.jsonl has every step once");
});

test.run();
