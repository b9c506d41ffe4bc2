import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { datasetInspect } from "./dataset.ts";
import type { Command } from "../command.ts";

export const PUSHT_DATASET = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../datasets/pusht/pusht_human.scdd");

export const start: Command = {
  name: "start",
  summary: "the main job on built-in defaults (for now: inspect the shipped Push-T demonstrations)",
  usage: "",
  flags: {},
  async run() {
    await datasetInspect.run([PUSHT_DATASET], {});
  },
};
