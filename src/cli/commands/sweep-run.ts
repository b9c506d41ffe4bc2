import { ScdError } from "../../errors.ts";
import { sweepRun } from "../../sweep/grid.ts";
import { runSweepRun } from "../../sweep/run.ts";
import { initBackend } from "../../backend/index.ts";
import { type Command, BACKEND_FLAG, out } from "../command.ts";
import { loadSweepFile } from "./sweep.ts";
import "../../envs/index.ts";

/** The run index: --index, else the array index of a Slurm job array or a Kubernetes Indexed Job. */
function runIndex(flag: number | undefined): number {
  if (flag !== undefined) return flag;
  for (const name of ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"]) {
    const v = process.env[name];
    if (v === undefined || v === "") continue;
    if (!/^\d+$/.test(v)) throw new ScdError(`environment variable ${name} must be a run index, got "${v}"`);
    return Number(v);
  }
  throw new ScdError(`sweep run needs --index I (or SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX in an array job)`);
}

export const sweepRunCommand: Command = {
  name: "sweep run",
  summary: "train and evaluate run I of a sweep (resumes an interrupted run; a finished run is left alone)",
  usage: "<sweep.json> [--index I]",
  minPositional: 1,
  flags: { index: { type: "int", desc: "run index (default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)", min: 0 }, ...BACKEND_FLAG },
  async run([file], flags) {
    const s = loadSweepFile(file);
    const run = sweepRun(s, runIndex(flags.index as number | undefined));
    await initBackend((flags.backend as string) ?? process.env.SCD_BACKEND ?? null);
    const outcome = await runSweepRun(run, (m) => process.stderr.write(m + "\n"));
    out(`run ${run.index} ${outcome}: ${run.dir}`);
  },
};
