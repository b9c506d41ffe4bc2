/** Diffusion Policy replay buffers (Zarr v2 directories) as a dataset format: read only. */
import type { DatasetFormat } from "../formats.ts";
import { isZarrDir, readDpZarr } from "./zarr.ts";

export const dpZarr: DatasetFormat = {
  id: "zarr",
  description: "Diffusion Policy replay buffer (Zarr v2)",
  expects: "a directory with .zgroup, or data/ and meta/episode_ends",
  recognizes: isZarrDir,
  read: async (p, opts) => ({ buffer: await readDpZarr(p, opts), meta: { source: p } }),
};
