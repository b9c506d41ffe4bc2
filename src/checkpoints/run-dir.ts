/**
 * Crash-safe checkpoints of a training run and what --resume may change. Layout of a run directory (as lerobot):
 *   <out>/checkpoints/000000250/   one complete checkpoint per saved step (written to a temp dir, renamed in)
 *   <out>/checkpoint -> checkpoints/000000250   a symlink to the latest, replaced atomically (rename over it)
 * A kill -9 at any moment leaves every named step directory complete, so --resume scans for the newest complete
 * one and never depends on the pointer. `<out>/checkpoint` stays a loadable checkpoint path for eval and run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ScdError } from "../errors.ts";
import { writeCheckpoint, readCheckpointMeta, readTrainState, readWeights, type CheckpointMeta, type Weights } from "./checkpoint.ts";

export const CHECKPOINTS = "checkpoints";
export const POINTER = "checkpoint";
const STEP_DIR = /^\d{9}$/;

const stepName = (step: number) => String(step).padStart(9, "0");

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A checkpoint directory that holds all three files, each readable (a crash mid-delete or a bad disk fails this). */
export function isCompleteCheckpoint(dir: string): boolean {
  try {
    readCheckpointMeta(dir);
    readWeights(dir);
    readTrainState(dir);
    return true;
  } catch {
    return false;
  }
}

/** Step checkpoint directories of a run, newest first (names only, not checked for completeness). */
export function runStepDirs(out: string): string[] {
  const root = path.join(out, CHECKPOINTS);
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).filter((n) => STEP_DIR.test(n)).sort().reverse().map((n) => path.join(root, n));
}

/**
 * The newest complete checkpoint of the run in `out` (a step directory, or the legacy real `<out>/checkpoint/`).
 * @throws ScdError naming `out` when there is none.
 */
export function findResumeCheckpoint(out: string): string {
  const legacy = path.join(out, POINTER);
  const candidates = runStepDirs(out);
  if (fs.existsSync(legacy) && !fs.lstatSync(legacy).isSymbolicLink()) candidates.push(legacy);
  const complete = candidates.filter(isCompleteCheckpoint).map((dir) => ({ dir, step: readCheckpointMeta(dir).step }));
  if (!complete.length) throw new ScdError(`--resume: ${out} holds no complete checkpoint (looked in ${path.join(out, CHECKPOINTS)}/ and ${legacy}/)`, "missing-file");
  complete.sort((a, b) => b.step - a.step);
  return complete[0].dir;
}

/**
 * Save a step checkpoint of the run in `out`, point `<out>/checkpoint` at it, and keep the newest `keep` steps
 * plus every step that is a multiple of `keepEvery` (> 0; lerobot keeps them all), e.g. for a score-vs-time curve.
 * Every operation is a rename or a write into a temp name, so a kill between any two leaves a resumable run.
 * @returns the step directory.
 */
export function saveRunCheckpoint(out: string, meta: CheckpointMeta, weights: Weights, trainState: Record<string, unknown>, keep = 3, keepEvery = 0): string {
  const root = path.join(out, CHECKPOINTS);
  fs.mkdirSync(root, { recursive: true });
  const pointer = path.join(out, POINTER);
  // a run from before step directories: its checkpoint becomes a step directory (one rename)
  if (fs.existsSync(pointer) && !fs.lstatSync(pointer).isSymbolicLink()) {
    const legacyStep = isCompleteCheckpoint(pointer) ? readCheckpointMeta(pointer).step : null;
    if (legacyStep !== null && !fs.existsSync(path.join(root, stepName(legacyStep)))) fs.renameSync(pointer, path.join(root, stepName(legacyStep)));
    else fs.renameSync(pointer, path.join(root, `.legacy-${Date.now().toString(36)}.trash`));
  }
  const dir = path.join(root, stepName(meta.step));
  // the same step saved again (a resume with nothing left to do) holds the same weights: keep the complete one
  if (!isCompleteCheckpoint(dir)) {
    if (fs.existsSync(dir)) fs.renameSync(dir, path.join(root, `.${stepName(meta.step)}.${process.pid}.trash`));
    writeCheckpoint(dir, meta, weights, trainState);
  }
  const link = path.join(out, `.${POINTER}.${process.pid}.link`);
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.join(CHECKPOINTS, stepName(meta.step)), link);
  fs.renameSync(link, pointer); // atomic: the pointer is always the old or the new target
  fsyncDir(root);
  fsyncDir(out);
  // prune old steps (never the newest `keep`); rename first so a half-deleted directory never carries a step name
  const kept = (dir: string) => keepEvery > 0 && Number(path.basename(dir)) % keepEvery === 0;
  for (const old of runStepDirs(out).slice(Math.max(1, keep)).filter((d) => !kept(d))) {
    const trash = path.join(root, `.${path.basename(old)}.${process.pid}.trash`);
    fs.renameSync(old, trash);
  }
  for (const n of fs.readdirSync(root)) if (n.endsWith(".trash") || /\.tmp-\d+-/.test(n)) removeLeftover(path.join(root, n), n);
  return dir;
}

/** Temp and trash directories left by this process, or by one that was killed (its pid is gone). */
function removeLeftover(p: string, name: string): void {
  const pid = Number(/\.(\d+)\.trash$/.exec(name)?.[1] ?? /\.tmp-(\d+)-/.exec(name)?.[1] ?? NaN);
  if (pid === process.pid || !Number.isFinite(pid) || !alive(pid)) fs.rmSync(p, { recursive: true, force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Config fields that define the run (model, data, split, seed): a resumed run cannot change them. */
const FIXED_ON_RESUME: Record<string, string> = {
  policy: "the weights belong to this policy",
  policyConfig: "the weights have this architecture",
  dataset: "the normalizers and the train/validation split come from this dataset",
  obsFeatures: "the model's frame layout is built from these features",
  episodes: "the train/validation split is made from these episodes",
  valFraction: "the train/validation split is fixed",
  seed: "the split and the RNG state come from this seed",
};

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The config of a resumed run: the run's saved config with every field `given` (flags, --config) on top. A given
 * field that defines the run and differs is refused, as are fewer total steps than the checkpoint has done.
 * @param nameOf how the caller spells a field (e.g. the CLI's flag names) in messages.
 * @throws ScdError naming the field, the saved and the given value, and why it cannot change.
 */
export function resumeConfig(saved: Record<string, unknown>, given: Record<string, unknown>, ckptStep: number, where: string, nameOf: (key: string) => string = (k) => k): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...saved };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    const value = k === "policyConfig" ? { ...((saved.policyConfig as object) ?? {}), ...(v as object) } : v;
    if (k in FIXED_ON_RESUME && !same(value, saved[k]))
      throw new ScdError(`${nameOf(k)} cannot change on --resume (${FIXED_ON_RESUME[k]}): ${where} has ${JSON.stringify(saved[k])}, given ${JSON.stringify(value)}`, "incompatible");
    merged[k] = value;
  }
  if (typeof merged.steps === "number" && merged.steps < ckptStep)
    throw new ScdError(`${nameOf("steps")} ${merged.steps} is below the step of ${where} (${ckptStep}); a resumed run can only go on`);
  return merged;
}

/**
 * The records of a metrics.jsonl, up to `maxStep` if given. A line cut short by a crash mid-append is dropped
 * (the step is trained again after the resume and logged anew).
 */
export function readMetricLines(file: string, maxStep = Infinity): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const l of fs.readFileSync(file, "utf8").split("\n")) {
    if (!l) continue;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(l);
    } catch {
      continue;
    }
    if (m && typeof m === "object" && ((m.step as number) ?? 0) <= maxStep) out.push(m);
  }
  return out;
}
