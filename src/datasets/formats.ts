/**
 * Dataset format registry: readers say which paths they recognise, writers take a buffer. The core knows only
 * its own `.scdd` format; other formats (Diffusion Policy Zarr, LeRobot, MCAP) register from src/datasets/<format>/.
 */
import { ScdError } from "../errors.ts";
import { nearest } from "../util/nearest.ts";
import type { EpisodeBuffer } from "./episodes.ts";
import type { Obs } from "../spaces.ts";
import type { LoopEvent } from "./events.ts";

/** Options for a format's reader. */
export interface ReadOptions {
  /** Also read image features of a Zarr store or a LeRobot dataset's videos (large; read on demand); skipped by default. */
  images?: boolean;
  /** Bound (bytes) of each image feature's cache of decoded frames; each reader has its default. */
  frameCacheBytes?: number;
  /** Progress lines for a terminal, e.g. "reading data/state". */
  onProgress?: (line: string) => void;
}

/** What a format's reader returns: the episodes and the format's metadata. */
export interface ReadResult {
  buffer: EpisodeBuffer;
  meta: Record<string, unknown>;
}

/** Options for a format's writer. */
export interface WriteOptions {
  /** Free-form provenance kept by formats that have a place for it. */
  meta?: Record<string, unknown>;
  /** Control rate of the data (Hz), for formats that store timestamps; default 10. */
  fps?: number;
  /** The task every episode performs, in words, for formats that store one (LeRobot). */
  task?: string;
  /** Split data files after this many frames (whole episodes per file), for formats with several files. */
  maxFramesPerFile?: number;
  /** Progress lines for a terminal. */
  onProgress?: (line: string) => void;
}

/** What a log recorder is told when it opens. */
export interface RecorderInfo {
  env?: string;
  /** Control period (ms). */
  periodMs: number;
  /** Values per action (A), to lay predicted chunks out as [H, A]. */
  actionDim: number;
  meta?: Record<string, unknown>;
}

/**
 * A live log of a control loop (`--record <file>` on eval and run). Times are absolute (ms since the Unix
 * epoch; eval maps its virtual clock onto one). Calls may return before the write lands; close() flushes.
 */
export interface LogRecorder {
  /** One control tick: the observation the loop acted on, the executed action, and whether it was a fallback. */
  tick(timeMs: number, episode: number, tick: number, obs: Obs, action: ArrayLike<number>, fallback: boolean): void;
  /** A loop event: inference (with its predicted chunk), miss or error; action events are ticks. */
  event(timeMs: number, episode: number, e: LoopEvent): void;
  /** Flush and finish the file (atomically). @throws on a write failure. */
  close(): Promise<void>;
}

/**
 * A dataset format: a reader (with `recognizes`), a writer, a live log recorder, or any of them. Registered with
 * {@link registerDatasetFormat}; {@link loadDataset} asks the registry which reader recognises a path.
 */
export interface DatasetFormat {
  /** Short id used in `--format` and in inspect's `kind` ("native", "zarr", "lerobot", "mcap"). */
  id: string;
  description: string;
  /** Cheap test (file name, a marker file) whether `path` is in this format; readers only. */
  recognizes?: (path: string) => boolean;
  /** What a path must look like, for the "no reader recognises" error. */
  expects?: string;
  /** Read every episode at `path`. */
  read?: (path: string, opts: ReadOptions) => Promise<ReadResult>;
  /** Write `buffer` to `path` (a file or a directory, by format), atomically. */
  write?: (path: string, buffer: EpisodeBuffer, opts: WriteOptions) => Promise<void>;
  /** What `write` makes: one file (default) or a directory. */
  writes?: "file" | "dir";
  /** For directory formats: is the directory at `path` an earlier output of this format (`--force` replaces only those)? */
  isOwnOutput?: (path: string) => boolean;
  /** File name endings that select this format for `--record` (".mcap"). */
  extensions?: string[];
  /** Open a live loop log at `path`. */
  recorder?: (path: string, info: RecorderInfo) => Promise<LogRecorder>;
  /** Tried after every other reader (the native format: any file). */
  fallback?: boolean;
}

const FORMATS = new Map<string, DatasetFormat>();

/** Add a dataset format to the registry (one line in src/datasets/index.ts per format); an id registers once. */
export function registerDatasetFormat(f: DatasetFormat): void {
  if (FORMATS.has(f.id)) throw new Error(`dataset format "${f.id}" is registered twice`);
  if (f.read && !f.recognizes) throw new Error(`dataset format "${f.id}" reads but recognises no path`);
  FORMATS.set(f.id, f);
}

/** Every registered dataset format, in registration order. */
export const datasetFormats = (): DatasetFormat[] => [...FORMATS.values()];

/** The format with this id; errors name the registered ids. */
export function datasetFormat(id: string, need: "read" | "write"): DatasetFormat {
  const f = FORMATS.get(id);
  const ids = datasetFormats().filter((x) => x[need]).map((x) => x.id);
  if (!f || !f[need]) {
    const near = nearest(id, ids);
    throw new ScdError(`no dataset format "${id}" that can ${need}${near ? ` (did you mean "${near}"?)` : ""}; registered: ${ids.join(", ")}`, "unknown-name");
  }
  return f;
}

/** The first registered reader that recognises `path`, or an error listing what each reader expects. */
export function readerFor(path: string): DatasetFormat {
  const readers = datasetFormats().filter((f) => f.read).sort((a, b) => Number(!!a.fallback) - Number(!!b.fallback));
  const f = readers.find((r) => r.recognizes!(path));
  if (!f) throw new ScdError(`${path}: no dataset reader recognises it (${readers.map((r) => `${r.id}: ${r.expects ?? r.description}`).join("; ")})`);
  return f;
}

/** The format whose extension `path` ends with and which records loop logs, or null (then: the native dataset). */
export function recorderFor(path: string): DatasetFormat | null {
  return datasetFormats().find((f) => f.recorder && f.extensions?.some((e) => path.endsWith(e))) ?? null;
}
