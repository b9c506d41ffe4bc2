import { loadSweep, describeOverrides, type Sweep } from "../../sweep/grid.ts";
import { type Command, out } from "../command.ts";
import { PUSHT_DATASET } from "./start.ts";

/** The sweep file with the CLI's defaults (the training dataset defaults as in `scd train`). */
export const loadSweepFile = (file: string): Sweep => loadSweep(file, { train: { dataset: PUSHT_DATASET } });

export const sweepCommand: Command = {
  name: "sweep",
  summary: "expand a sweep file (train/eval settings × grid) into numbered runs",
  usage: "<sweep.json> [--json | --count]",
  minPositional: 1,
  flags: {
    json: { type: "boolean", desc: "print the runs with their full settings as JSON" },
    count: { type: "boolean", desc: "print only the number of runs (for sbatch --array=0-$((n-1)))" },
  },
  async run([file], flags) {
    const s = loadSweepFile(file);
    if (flags.json) return out(JSON.stringify(s, null, 2));
    if (flags.count) return out(String(s.runs.length));
    out(
      [
        `${s.name}: ${s.runs.length} run(s) → ${s.out}`,
        ...s.runs.map((r) => `  ${String(r.index).padStart(3)}  ${describeOverrides(r.overrides)}`),
        "",
        `run one:     scd sweep run ${file} --index I`,
        `all, Slurm:  SWEEP=${file} examples/slurm/submit-sweep.sh     (an array 0-${s.runs.length - 1} and a dependent report job)`,
        `collect:     scd sweep report ${file}`,
      ].join("\n"),
    );
  },
};
