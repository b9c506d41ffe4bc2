/**
 * LeRobot v3.0's `meta/info.json` (features, fps, path templates), its version rule, and the path templates
 * (`data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet`) in both directions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { ScdError } from "../../errors.ts";

export const CODEBASE_VERSION = "v3.0";
export const INFO_PATH = "meta/info.json";
export const STATS_PATH = "meta/stats.json";
export const TASKS_PATH = "meta/tasks.parquet";
export const DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet";
export const EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet";
/** Columns every LeRobot frame table has: the frame's place, not data of the task. */
export const INDEX_COLUMNS = ["timestamp", "frame_index", "episode_index", "index", "task_index"] as const;

const Feature = z.object({
  dtype: z.string().min(1),
  shape: z.array(z.number().int().positive()).min(1),
  names: z.unknown().optional(),
}).passthrough();

export const InfoSchema = z.object({
  codebase_version: z.string(),
  fps: z.number().positive(),
  features: z.record(z.string(), Feature),
  total_episodes: z.number().int().nonnegative().optional(),
  total_frames: z.number().int().nonnegative().optional(),
  data_path: z.string().min(1).default(DATA_PATH),
}).passthrough();
export type Info = z.infer<typeof InfoSchema>;
export type FeatureInfo = z.infer<typeof Feature>;

/**
 * Read and check `<root>/meta/info.json`.
 * @throws ScdError naming the file: missing, not JSON, a field of the wrong type, a v2.x or unknown version.
 */
export function readInfo(root: string): Info {
  const file = path.join(root, INFO_PATH);
  if (!fs.existsSync(file)) throw new ScdError(`${file}: missing (a LeRobot v3.0 dataset has meta/info.json with its features, fps and path templates)`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ScdError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const version = (raw as { codebase_version?: unknown })?.codebase_version;
  if (typeof version === "string" && /^v2\./.test(version))
    throw new ScdError(`${file}: codebase_version "${version}" is the LeRobot v2.x layout (one Parquet file per episode); convert it to v3.0 with lerobot's convert_dataset_v21_to_v30 first`);
  if (typeof version === "string" && version !== CODEBASE_VERSION)
    throw new ScdError(`${file}: unknown codebase_version "${version}"; supported: ${CODEBASE_VERSION}`);
  const r = InfoSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ScdError(`${file}: field ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  return r.data;
}

/** Fill a template: "{chunk_index:03d}" → zero-padded. */
export function formatTemplate(template: string, values: Record<string, number>): string {
  return template.replace(/\{(\w+)(?::0(\d+)d)?\}/g, (_, k: string, w?: string) => {
    if (!(k in values)) throw new Error(`template ${template}: no value for {${k}}`);
    return String(values[k]).padStart(Number(w ?? 0), "0");
  });
}

/** Files under `root` matching a template, ordered by the template's numbers (chunk, then file). */
export function filesOf(root: string, template: string): string[] {
  const names: string[] = [];
  const re = new RegExp("^" + template.split(/\{\w+(?::0\d+d)?\}/).map((s) => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&")).join("(\\d+)") + "$");
  const top = template.split("/")[0];
  if (!fs.existsSync(path.join(root, top))) return [];
  for (const f of fs.readdirSync(path.join(root, top), { recursive: true, encoding: "utf8" })) {
    const rel = path.posix.join(top, f.split(path.sep).join("/"));
    const m = re.exec(rel);
    if (m) names.push(rel + "\0" + m.slice(1).map((x) => x.padStart(12, "0")).join(""));
  }
  return names.sort((a, b) => (a.split("\0")[1] < b.split("\0")[1] ? -1 : 1)).map((n) => path.join(root, n.split("\0")[0]));
}
