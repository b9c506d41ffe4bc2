import * as fs from "node:fs";
import * as path from "node:path";
import { MCAP_MAGIC } from "@mcap/core";
import { ScdError } from "../../errors.ts";
import { isNativeDataset, salvageNative } from "../../eval/salvage.ts";
import { indexMcap } from "../../datasets/mcap/stream.ts";
import { type Command, out } from "../command.ts";
import { checkOutput } from "../../util/outputs.ts";

/** `scd salvage`: what a killed `--record` or `collect` left in `<file>.partial`, made a complete `<file>`. */
export const salvageCommand: Command = {
  name: "salvage",
  summary: "recover a recording cut short (kill -9, crash): <file>.partial of --record or collect → a complete <file>",
  usage: "<file.mcap.partial | file.scdd.partial> [--out file] [--force]",
  minPositional: 1,
  flags: {
    out: { type: "string", desc: "the file to write (default: the input's name without .partial)" },
    force: { type: "boolean", desc: "replace an existing output file" },
  },
  async run(pos, flags) {
    const src = pos[0];
    if (!fs.existsSync(src) || !fs.statSync(src).isFile()) throw new ScdError(`${src}: no such file`, "missing-file");
    const dest = (flags.out as string | undefined) ?? (src.endsWith(".partial") ? src.slice(0, -".partial".length) : undefined);
    if (!dest) throw new ScdError(`${src}: the name does not end in .partial; say where to write with --out`);
    if (path.resolve(dest) === path.resolve(src)) throw new ScdError(`--out ${dest}: is the input itself`);
    checkOutput(dest, { flag: "out", kind: "file", force: !!flags.force });
    if (isNativeDataset(src)) {
      const r = salvageNative(src, dest);
      out(`salvaged ${dest}: ${r.episodes} whole episodes, ${r.steps} steps${r.droppedBytes ? `; left out ${r.droppedBytes} bytes of an unfinished episode` : ""}`);
      return;
    }
    const head = Buffer.alloc(MCAP_MAGIC.length);
    const fd = fs.openSync(src, "r");
    fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    if (!head.equals(Buffer.from(MCAP_MAGIC))) throw new ScdError(`${src}: neither an MCAP log nor an scd dataset (unknown first bytes); nothing to salvage`);
    const tmp = `${dest}.${process.pid}.salvage`;
    try {
      const r = await indexMcap(src, tmp);
      fs.renameSync(tmp, dest);
      const cut = r.stoppedAt ? `; stopped at a corrupt record (${r.stoppedAt}), ${r.droppedBytes} bytes left out` : r.droppedBytes ? `; left out ${r.droppedBytes} bytes of a record cut short` : "";
      out(`salvaged ${dest}: ${r.messages} messages on ${r.channels} channels${cut}`);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  },
};
