import * as path from "node:path";
import { collectSweep, formatSweepTable, plotSweep } from "../../sweep/report.ts";
import { writeFileAtomic } from "../../util/fsx.ts";
import { type Command, out } from "../command.ts";
import { loadSweepFile } from "./sweep.ts";

export const sweepReportCommand: Command = {
  name: "sweep report",
  summary: "collect a sweep's finished runs into one table and a plot (unfinished runs are skipped with a note)",
  usage: "<sweep.json> [--json out|-] [--plot f.png]",
  minPositional: 1,
  flags: {
    json: { type: "string", desc: "write the rows as JSON to a file, or - for stdout (default <out>/report.json)" },
    plot: { type: "string", desc: "PNG of mean score per run (default <out>/report.png)" },
  },
  async run([file], flags) {
    const s = loadSweepFile(file);
    const r = collectSweep(s);
    const json = JSON.stringify(r, null, 2);
    if (flags.json === "-") return out(json);
    const jsonOut = (flags.json as string | undefined) ?? path.join(s.out, "report.json");
    const plotOut = (flags.plot as string | undefined) ?? path.join(s.out, "report.png");
    writeFileAtomic(jsonOut, json + "\n");
    if (r.rows.length) plotSweep(plotOut, r, s.name);
    out(`${formatSweepTable(s, r)}\n\n${r.rows.length} of ${s.runs.length} run(s) finished\n  report: ${jsonOut}${r.rows.length ? `\n  plot: ${plotOut}` : ""}`);
  },
};
