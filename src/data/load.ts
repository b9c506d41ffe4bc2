/** Open any supported dataset path: a native .scdd file or a Diffusion Policy Zarr directory. */
import * as fs from "node:fs";
import { ScdError } from "../errors.ts";
import type { EpisodeBuffer } from "./episodes.ts";
import { readDataset } from "./native.ts";
import { isZarrDir, readDpZarr, type ZarrImportOptions } from "../../datasets/importers/dp-zarr.ts";

export interface LoadedDataset {
  buffer: EpisodeBuffer;
  kind: "native" | "zarr";
  meta: Record<string, unknown>;
}

export async function loadDataset(p: string, opts: ZarrImportOptions = {}): Promise<LoadedDataset> {
  if (!fs.existsSync(p)) throw new ScdError(`${p}: no such file or directory`);
  if (fs.statSync(p).isDirectory()) {
    if (!isZarrDir(p)) throw new ScdError(`${p}: a directory but not a Zarr replay buffer (expected data/ and meta/episode_ends)`);
    return { buffer: await readDpZarr(p, opts), kind: "zarr", meta: { source: p } };
  }
  const { buffer, header } = readDataset(p);
  return { buffer, kind: "native", meta: header.meta };
}
