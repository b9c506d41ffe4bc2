/** Open any dataset path that a registered format recognises (the native .scdd format is always registered). */
import * as fs from "node:fs";
import { ScdError } from "../errors.ts";
import type { EpisodeBuffer } from "./episodes.ts";
import { DatasetReader, writeDatasetAsync } from "./native.ts";
import { registerDatasetFormat, readerFor, type ReadOptions } from "./formats.ts";

/** A dataset read by {@link loadDataset}: its episodes, the format that read it and the format's metadata. */
export interface LoadedDataset {
  buffer: EpisodeBuffer;
  /** The id of the format that read it ("native", "zarr", …). */
  kind: string;
  meta: Record<string, unknown>;
}

registerDatasetFormat({
  id: "native",
  description: "this package's .scdd file",
  expects: "a .scdd file",
  recognizes: (p) => fs.statSync(p).isFile(),
  fallback: true,
  // image features stay on disk, read frame by frame when a window or a summary asks (DatasetReader.readLazy)
  read: async (p, opts) => {
    const r = DatasetReader.open(p);
    try {
      return { buffer: r.readLazy(opts.frameCacheBytes), meta: r.header.meta };
    } finally {
      r.close();
    }
  },
  write: async (p, buffer, opts) => writeDatasetAsync(p, buffer, opts.meta ?? {}, opts.onProgress),
});

/**
 * Read a dataset with the first registered format that recognises `p`.
 * @throws ScdError when `p` does not exist, no format recognises it, or the reader refuses its contents.
 */
export async function loadDataset(p: string, opts: ReadOptions = {}): Promise<LoadedDataset> {
  if (!fs.existsSync(p)) throw new ScdError(`${p}: no such file or directory`, "missing-file");
  const f = readerFor(p);
  const { buffer, meta } = await f.read!(p, opts);
  return { buffer, kind: f.id, meta };
}
