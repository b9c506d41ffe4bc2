import * as fs from "node:fs";
import * as path from "node:path";
import { ScdError } from "../../errors.ts";
import { checkOutput } from "../../util/outputs.ts";
import { mergeShardReports } from "../../eval/merge.ts";
import { plotScores } from "../../eval/plot.ts";
import { writeFileAtomic } from "../../util/fsx.ts";
import { type Command, out } from "../command.ts";

function readJson(file: string): unknown {
  if (!fs.existsSync(file)) throw new ScdError(`${file}: no such file`, "missing-file");
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ScdError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

export const evalMergeCommand: Command = {
  name: "eval merge",
  summary: "merge the shard reports of `scd eval --shard K/N` into the report a single run gives",
  usage: "<shard.json…> --json out.json|- [--plot f.png]",
  minPositional: 1,
  flags: {
    json: { type: "string", desc: "write the merged report to a file, or - for stdout" },
    plot: { type: "string", desc: "PNG plot of per-episode scores (default: beside --json)" },
  },
  async run(files, flags) {
    const jsonOut = flags.json as string | undefined;
    if (!jsonOut) throw new ScdError(`eval merge needs --json <out.json> (or - for stdout)`);
    const plotPath = (flags.plot as string | undefined) ?? (jsonOut !== "-" ? path.join(path.dirname(jsonOut), path.basename(jsonOut, ".json") + "_scores.png") : undefined);
    checkOutput(jsonOut, { flag: "json", kind: "file" });
    checkOutput(plotPath, { flag: "plot", kind: "file" });
    const merged = mergeShardReports(files.map((file) => ({ file, json: readJson(file) })));
    if (plotPath) {
      plotScores(plotPath, merged.per_episode.map((p) => p.max_reward), merged.per_episode.map((p) => p.success), merged.env);
      merged.files.plot = plotPath;
    }
    const json = JSON.stringify(merged, null, 2);
    if (jsonOut === "-") return out(json);
    writeFileAtomic(jsonOut, json + "\n");
    const a = merged.aggregated;
    out(`merged ${files.length} shard(s): ${merged.policy} on ${merged.env}, ${a.n_episodes} episodes from seed ${merged.seed_start}: avg_max_reward ${a.avg_max_reward.toFixed(4)}   pc_success ${a.pc_success.toFixed(1)} %\n  report: ${jsonOut}${plotPath ? `\n  plot: ${plotPath}` : ""}`);
  },
};
