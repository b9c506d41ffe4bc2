/** LeRobot v3.0 dataset directories as a dataset format: read (tabular features) and write. */
import * as fs from "node:fs";
import * as path from "node:path";
import type { DatasetFormat } from "../formats.ts";
import { readLeRobot } from "./read.ts";
import { writeLeRobot } from "./write.ts";

const has = (p: string, rel: string) => fs.existsSync(path.join(p, rel));

export const lerobot: DatasetFormat = {
  id: "lerobot",
  description: "LeRobot dataset, format v3.0 (Parquet + meta/info.json)",
  expects: "a directory with meta/info.json and data/chunk-*/file-*.parquet",
  // meta/episodes or data/ without info.json still counts, so its absence is reported as such
  recognizes: (p) => fs.statSync(p).isDirectory() && (has(p, "meta/info.json") || has(p, "meta/episodes") || has(p, "meta/tasks.parquet") || (has(p, "data") && !has(p, "meta/episode_ends") && !has(p, ".zgroup"))),
  read: readLeRobot,
  write: writeLeRobot,
  writes: "dir",
  isOwnOutput: (p) => has(p, "meta/info.json"),
};
