import { loadSweep, describeOverrides, type Sweep } from "../../sweep/grid.ts";
import { type Command, out } from "../command.ts";
import { PUSHT_DATASET } from "./start.ts";

/** The sweep file with the CLI's defaults (the training dataset defaults as in `scd train`). */
export const loadSweepFile = (file: string): Sweep => loadSweep(file, { train: { dataset: PUSHT_DATASET } });

export const sweepCommand: Command = {
  name: "sweep",
  summary: "expand a sweep file (train/eval settings × grid) into numbered runs",
  usage: "<sweep.json> [--json]",
  minPositional: 1,
  flags: { json: { type: "boolean", desc: "print the runs with their full settings as JSON" } },
  async run([file], flags) {
    const s = loadSweepFile(file);
    if (flags.json) return out(JSON.stringify(s, null, 2));
    out(
      [
        `${s.name}: ${s.runs.length} run(s) → ${s.out}`,
        ...s.runs.map((r) => `  ${String(r.index).padStart(3)}  ${describeOverrides(r.overrides)}`),
        "",
        `run one:     scd sweep run ${file} --index I          (or in a Slurm array: sbatch --array=0-${s.runs.length - 1} examples/slurm/sweep.sbatch ${file})`,
        `collect:     scd sweep report ${file}`,
      ].join("\n"),
    );
  },
};
