import * as fs from "node:fs";
import { ScdError } from "../../errors.ts";
import { loadDataset } from "../../datasets/load.ts";
import { writeDatasetAsync } from "../../datasets/native.ts";
import { summarize, formatSummary } from "../../datasets/inspect.ts";
import { datasetFormat, datasetFormats, type ReadOptions } from "../../datasets/formats.ts";
import { type EpisodeBuffer, type Schema, concatEpisodes, getEpisode } from "../../datasets/episodes.ts";
import { ConcatFrames } from "../../datasets/frames.ts";

/**
 * The episodes of several datasets in turn; image features held by frame sources stay lazy (chained sources).
 * @throws ScdError naming the first source whose features differ.
 */
function concatBuffers(bufs: EpisodeBuffer[], names: string[]): EpisodeBuffer {
  const key = (b: EpisodeBuffer) => JSON.stringify(Object.entries(b.schema).sort());
  for (const [i, b] of bufs.entries())
    if (key(b) !== key(bufs[0])) throw new ScdError(`${names[i]}: features ${key(b)} differ from ${names[0]}'s ${key(bufs[0])}`);
  const lazy = Object.keys(bufs[0].frames ?? {});
  const inMemory: Schema = Object.fromEntries(Object.entries(bufs[0].schema).filter(([n]) => !lazy.includes(n)));
  const buf = concatEpisodes(inMemory, bufs.flatMap((b) => Array.from({ length: b.episodeEnds.length }, (_, k) => getEpisode({ ...b, schema: inMemory, frames: undefined }, k))));
  if (!lazy.length) return buf;
  return { ...buf, schema: bufs[0].schema, frames: Object.fromEntries(lazy.map((n) => [n, new ConcatFrames(bufs.map((b) => b.frames![n]))])) };
}
import { type Command, out } from "../command.ts";
import { checkOutput } from "../../util/outputs.ts";

export const datasetInspect: Command = {
  name: "dataset inspect",
  summary: "episodes, steps, feature shapes and per-dimension min/max/mean/std of a dataset (.scdd, Zarr, LeRobot v3.0)",
  usage: "<.scdd file | zarr dir | lerobot dir> [--json]",
  minPositional: 1,
  flags: { json: { type: "boolean", desc: "print one JSON object" }, images: { type: "boolean", desc: "include the image arrays of a Zarr store and the videos of a LeRobot dataset (a .scdd's images are always shown)" } },
  async run([p], flags) {
    const skipped: string[] = [];
    const ds = await loadDataset(p, { images: !!flags.images, onProgress: (l) => l.startsWith("skipping") && skipped.push(l) });
    const s = await summarize(ds.buffer);
    const notes = skipped.length ? { skipped: ds.meta.skipped ?? skipped } : {};
    out(flags.json ? JSON.stringify({ path: p, kind: ds.kind, ...s, ...notes }, null, 2) : formatSummary(p, ds.kind, s) + skipped.map((l) => `\n  ${l}`).join(""));
  },
};

export const datasetImport: Command = {
  name: "dataset import",
  summary: "convert a Diffusion Policy Zarr replay buffer, a LeRobot v3.0 dataset or ROS bags (by a topic map) to the native format",
  usage: "<zarr dir | lerobot dir | ROS bag(s): .mcap, bag dir, folder of bags, .bag> <out.scdd> [--map map.json] [--images] [--force]",
  minPositional: 2,
  flags: {
    images: { type: "boolean", desc: "also import image arrays / LeRobot videos (uint8 frames, copied one episode at a time)" },
    force: { type: "boolean", desc: "overwrite an existing output file" },
    map: { type: "string", desc: "ROS bags: topic map JSON (observation topics/fields, action topic, rateHz, maxAgeMs, episodes marker)" },
  },
  async run(pos, flags) {
    const dst = pos.at(-1)!, srcs = pos.slice(0, -1);
    checkOutput(dst, { flag: "out", kind: "file", force: !!flags.force });
    // ROS bags are read by a topic map (src/ros/topic-map.ts validates it); each source's episodes follow the last's
    const map = flags.map ? (await import("../../ros/topic-map.ts")).loadTopicMap(flags.map as string) : undefined;
    const opts: ReadOptions & { map?: unknown; mapName?: string } = { images: !!flags.images, onProgress: (l) => process.stderr.write(`${l}\n`), map, mapName: flags.map as string | undefined };
    const all = [];
    for (const src of srcs) all.push(await loadDataset(src, opts));
    const ds = all[0];
    for (const [i, d] of all.entries()) {
      if (d.kind === "native") throw new ScdError(`${srcs[i]}: import expects a Zarr replay buffer, a LeRobot dataset or ROS bags; it is already a native dataset`);
      if (map && d.kind !== "ros2-bag") throw new ScdError(`--map ${flags.map}: reads ROS bags; ${srcs[i]} is a ${d.kind} dataset`);
      if (d.kind !== ds.kind) throw new ScdError(`${srcs[i]} is a ${d.kind} dataset, ${srcs[0]} a ${ds.kind} one; import them separately`);
    }
    if (all.length > 1) ds.buffer = concatBuffers(all.map((d) => d.buffer), srcs);
    const source = ds.kind === "zarr" ? "diffusion-policy-zarr" : ds.kind;
    const extra = ds.kind === "ros2-bag" ? { bags: all.flatMap((d) => d.meta.bags as string[]), ...(typeof ds.meta.env === "string" ? { env: ds.meta.env } : {}), ...(map ? { topicMap: map } : {}) } : {};
    await writeDatasetAsync(dst, ds.buffer, { source, importedFrom: srcs.map((x) => x.split("/").pop()).join(", "), importedAt: new Date().toISOString(), ...(typeof ds.meta.fps === "number" ? { fps: ds.meta.fps } : {}), ...extra }, opts.onProgress);
    out(`wrote ${dst}: ${ds.buffer.episodeEnds.length} episodes, ${ds.buffer.episodeEnds.at(-1) ?? 0} steps, features ${Object.keys(ds.buffer.schema).join(", ")} (${(fs.statSync(dst).size / 1e6).toFixed(2)} MB)`);
  },
};

export const datasetExport: Command = {
  name: "dataset export",
  summary: "write any dataset the package reads (.scdd, Zarr, LeRobot, an `scd eval --record` file) as LeRobot v3.0 or MCAP",
  usage: "<dataset> --format lerobot|mcap|native --out <dir or file> [--fps N] [--task TEXT] [--force]",
  minPositional: 1,
  flags: {
    format: { type: "string", desc: "output format: lerobot (a v3.0 directory), mcap (a Foxglove log), native (.scdd)" },
    out: { type: "string", desc: "output directory (lerobot) or file" },
    fps: { type: "number", desc: "frames per second of the data (default: the dataset's, else 10)", min: 0.001 },
    task: { type: "string", desc: "the task of every episode, in words (LeRobot's tasks; default: the env id, else \"default task\")" },
    "max-frames-per-file": { type: "int", desc: "split LeRobot data files after this many frames (whole episodes per file)", min: 1 },
    images: { type: "boolean", desc: "also export the image arrays of a Zarr store / LeRobot videos (a .scdd's images always go; LeRobot writes them as H.264 MP4)" },
    force: { type: "boolean", desc: "overwrite an existing output" },
  },
  async run([src], flags) {
    if (!flags.format) throw new ScdError(`dataset export needs --format (${datasetFormats().filter((f) => f.write).map((f) => f.id).join(", ")})`);
    if (!flags.out) throw new ScdError(`dataset export needs --out <path>`);
    const fmt = datasetFormat(flags.format as string, "write");
    const dst = flags.out as string;
    checkOutput(dst, { flag: "out", kind: fmt.writes ?? "file", force: !!flags.force, isOwn: fmt.isOwnOutput, what: `a ${fmt.id} dataset` });
    const ds = await loadDataset(src, { images: !!flags.images, onProgress: (l) => process.stderr.write(`${l}\n`) });
    const fps = (flags.fps as number | undefined) ?? (typeof ds.meta.fps === "number" ? ds.meta.fps : 10);
    if (!(fps > 0)) throw new ScdError(`--fps must be positive, got ${fps}`);
    const task = (flags.task as string | undefined) ?? (typeof ds.meta.env === "string" ? ds.meta.env : "default task");
    await fmt.write!(dst, ds.buffer, { fps, task, meta: { ...ds.meta, exportedFrom: src }, maxFramesPerFile: flags["max-frames-per-file"] as number | undefined, onProgress: (l) => process.stderr.write(`${l}\n`) });
    out(`wrote ${dst} (${fmt.id}): ${ds.buffer.episodeEnds.length} episodes, ${ds.buffer.episodeEnds.at(-1) ?? 0} frames at ${fps} fps, features ${Object.keys(ds.buffer.schema).join(", ")}`);
  },
};
