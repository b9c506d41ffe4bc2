import * as fs from "node:fs";
import { ScdError } from "../../errors.ts";
import { loadDataset } from "../../data/load.ts";
import { writeDataset } from "../../data/native.ts";
import { summarize, formatSummary } from "../../data/inspect.ts";
import { type Command, out } from "../command.ts";

export const datasetInspect: Command = {
  name: "dataset inspect",
  summary: "episodes, steps, feature shapes and per-dimension min/max/mean/std of a Zarr or native dataset",
  usage: "<zarr dir | .scdd file> [--json]",
  minPositional: 1,
  flags: { json: { type: "boolean", desc: "print one JSON object" }, images: { type: "boolean", desc: "include image arrays of a Zarr store" } },
  async run([p], flags) {
    const ds = await loadDataset(p, { images: !!flags.images });
    const s = summarize(ds.buffer);
    out(flags.json ? JSON.stringify({ path: p, kind: ds.kind, ...s }, null, 2) : formatSummary(p, ds.kind, s));
  },
};

export const datasetImport: Command = {
  name: "dataset import",
  summary: "convert a Diffusion Policy Zarr replay buffer to the native format",
  usage: "<zarr dir> <out.scdd> [--images] [--force]",
  minPositional: 2,
  flags: {
    images: { type: "boolean", desc: "also import image arrays (uint8; large)" },
    force: { type: "boolean", desc: "overwrite an existing output file" },
  },
  async run([src, dst], flags) {
    if (fs.existsSync(dst) && !flags.force) throw new ScdError(`${dst} exists; pass --force to overwrite`);
    const ds = await loadDataset(src, { images: !!flags.images, onProgress: (l) => process.stderr.write(`${l}\n`) });
    if (ds.kind === "native") throw new ScdError(`${src}: import expects a Zarr replay buffer; it is already a native dataset`);
    writeDataset(dst, ds.buffer, { source: "diffusion-policy-zarr", importedFrom: src.split("/").pop(), importedAt: new Date().toISOString() });
    const s = summarize(ds.buffer);
    out(`wrote ${dst}: ${s.episodes} episodes, ${s.steps} steps, features ${Object.keys(ds.buffer.schema).join(", ")} (${(fs.statSync(dst).size / 1e6).toFixed(2)} MB)`);
  },
};
