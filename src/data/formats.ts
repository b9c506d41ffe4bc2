/**
 * Dataset format registry: readers say which paths they recognise, writers take a buffer. The core knows only
 * its own `.scdd` format; other formats (Diffusion Policy Zarr, LeRobot, MCAP) register from datasets/<format>/.
 */
import { ScdError } from "../errors.ts";
import { nearest } from "../util/nearest.ts";
import type { EpisodeBuffer } from "./episodes.ts";

export interface ReadOptions {
  /** Also read image features (large); readers skip them by default. */
  images?: boolean;
  /** Progress lines for a terminal, e.g. "reading data/state". */
  onProgress?: (line: string) => void;
}

export interface ReadResult {
  buffer: EpisodeBuffer;
  meta: Record<string, unknown>;
}

export interface WriteOptions {
  /** Free-form provenance kept by formats that have a place for it. */
  meta?: Record<string, unknown>;
  /** Control rate of the data (Hz), for formats that store timestamps; default 10. */
  fps?: number;
  onProgress?: (line: string) => void;
}

export interface DatasetFormat {
  /** Short id used in `--format` and in inspect's `kind` ("native", "zarr", "lerobot", "mcap"). */
  id: string;
  description: string;
  /** Cheap test (file name, a marker file) whether `path` is in this format; readers only. */
  recognizes?: (path: string) => boolean;
  /** What a path must look like, for the "no reader recognises" error. */
  expects?: string;
  read?: (path: string, opts: ReadOptions) => Promise<ReadResult>;
  /** Write `buffer` to `path` (a file or a directory, by format), atomically. */
  write?: (path: string, buffer: EpisodeBuffer, opts: WriteOptions) => Promise<void>;
}

const FORMATS = new Map<string, DatasetFormat>();

export function registerDatasetFormat(f: DatasetFormat): void {
  if (FORMATS.has(f.id)) throw new Error(`dataset format "${f.id}" is registered twice`);
  if (f.read && !f.recognizes) throw new Error(`dataset format "${f.id}" reads but recognises no path`);
  FORMATS.set(f.id, f);
}

export const datasetFormats = (): DatasetFormat[] => [...FORMATS.values()];

/** The format with this id; errors name the registered ids. */
export function datasetFormat(id: string, need: "read" | "write"): DatasetFormat {
  const f = FORMATS.get(id);
  const ids = datasetFormats().filter((x) => x[need]).map((x) => x.id);
  if (!f || !f[need]) {
    const near = nearest(id, ids);
    throw new ScdError(`no dataset format "${id}" that can ${need}${near ? ` (did you mean "${near}"?)` : ""}; registered: ${ids.join(", ")}`);
  }
  return f;
}

/** The first registered reader that recognises `path`, or an error listing what each reader expects. */
export function readerFor(path: string): DatasetFormat {
  const readers = datasetFormats().filter((f) => f.read);
  const f = readers.find((r) => r.recognizes!(path));
  if (!f) throw new ScdError(`${path}: no dataset reader recognises it (${readers.map((r) => `${r.id}: ${r.expects ?? r.description}`).join("; ")})`);
  return f;
}
