/**
 * Merge shard reports (`scd eval --shard K/N`) into the report one process would have written: per-episode rows
 * in seed order, aggregates recomputed from them, the loop summary recomputed from the shards' raw loop events.
 * `eval_s` of a merged report is the shards' sum (evaluation seconds spent, not the wall time of the array).
 */
import { z } from "zod";
import { ScdError } from "../errors.ts";
import { summarizeLoop } from "../loop/metrics.ts";
import { aggregate, type EvalReport } from "./evaluate.ts";
import { CompactLoopEvents, concatLoopEvents, expandLoopEvents } from "./loop-events.ts";
import { shardSlice } from "./shard.ts";

/** What a shard file holds beside the report: which slice it is and the settings every shard must share. */
export const ShardInfo = z.object({
  index: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  /** episodes of the whole evaluation (all shards) */
  episodes: z.number().int().positive(),
  /** env, policy and loop settings; shards of one evaluation agree on all of them */
  settings: z.record(z.string(), z.unknown()),
});
export type ShardInfo = z.infer<typeof ShardInfo>;

const Row = z.object({ episode_ix: z.number().int(), seed: z.number().int(), max_reward: z.number(), sum_reward: z.number(), success: z.boolean() }).passthrough();
const ShardDoc = z.object({
  env: z.string(),
  policy: z.string(),
  seed_start: z.number().int(),
  aggregated: z.object({ eval_s: z.number() }).passthrough(),
  per_episode: z.array(Row),
  files: z.object({ gifs: z.array(z.string()) }).passthrough(),
  shard: ShardInfo,
  loop_events: CompactLoopEvents,
});
type ShardDoc = z.infer<typeof ShardDoc>;

export interface MergedReport extends Omit<EvalReport, "loop_events"> {
  env: string;
  policy: string;
  seed_start: number;
  /** the loop and env settings the shards shared (as one `scd eval --json` records them) */
  settings: Record<string, unknown>;
}

function parseShardDoc(file: string, json: unknown): ShardDoc {
  if (json && typeof json === "object" && !("shard" in json))
    throw new ScdError(`${file}: not a shard report (no "shard" field); write shards with scd eval --shard K/N`);
  const r = ShardDoc.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ScdError(`${file}: field ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  return r.data;
}

/** The fields all shards must agree on, as canonical strings. */
function identity(d: ShardDoc): Record<string, string> {
  const keys = { env: d.env, policy: d.policy, seed_start: d.seed_start, "shard.count": d.shard.count, "shard.episodes": d.shard.episodes, ...Object.fromEntries(Object.entries(d.shard.settings).map(([k, v]) => [`shard.settings.${k}`, v])) };
  return Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, JSON.stringify(v ?? null)]));
}

/**
 * Merge parsed shard files. Throws ScdError naming the file(s) when a shard is missing, given twice, from a
 * different evaluation (env, policy, seeds, split or loop settings differ), or holds rows of the wrong seeds.
 */
export function mergeShardReports(inputs: readonly { file: string; json: unknown }[]): MergedReport {
  if (!inputs.length) throw new ScdError(`eval merge needs at least one shard file`);
  const docs = inputs.map(({ file, json }) => ({ file, doc: parseShardDoc(file, json) }));
  const first = docs[0], id0 = identity(first.doc);
  for (const { file, doc } of docs.slice(1)) {
    const id = identity(doc);
    for (const k of new Set([...Object.keys(id0), ...Object.keys(id)]))
      if (id[k] !== id0[k]) throw new ScdError(`${file}: ${k} is ${id[k] ?? "absent"}, but ${first.file} has ${id0[k] ?? "absent"}; these shards are from different evaluations`);
  }
  const { count: n, episodes } = first.doc.shard;
  const byIndex = new Map<number, { file: string; doc: ShardDoc }>();
  for (const d of docs) {
    const k = d.doc.shard.index;
    if (k >= n) throw new ScdError(`${d.file}: shard.index ${k} is not below shard.count ${n}`);
    const seen = byIndex.get(k);
    if (seen) throw new ScdError(`shard ${k}/${n} given twice: ${seen.file} and ${d.file}`);
    byIndex.set(k, d);
  }
  const missing = Array.from({ length: n }, (_, k) => k).filter((k) => !byIndex.has(k));
  if (missing.length) {
    const desc = missing.map((k) => {
      const s = shardSlice(episodes, { index: k, count: n });
      return `${k}/${n} (seeds ${first.doc.seed_start + s.start}..${first.doc.seed_start + s.start + s.count - 1})`;
    });
    throw new ScdError(`missing shard(s) ${desc.join(", ")}; got ${docs.map((d) => d.file).join(", ")}`);
  }
  const ordered = Array.from({ length: n }, (_, k) => byIndex.get(k)!);
  for (const { file, doc } of ordered) {
    const s = shardSlice(episodes, doc.shard);
    const want = Array.from({ length: s.count }, (_, i) => doc.seed_start + s.start + i);
    const got = doc.per_episode.map((p) => p.seed);
    if (JSON.stringify(got) !== JSON.stringify(want))
      throw new ScdError(`${file}: shard ${doc.shard.index}/${n} should hold seeds ${want[0]}..${want.at(-1)} but per_episode has ${got.length ? `${got[0]}..${got.at(-1)} (${got.length} rows)` : "no rows"}`);
  }
  const per_episode = ordered.flatMap(({ doc }) => doc.per_episode) as unknown as EvalReport["per_episode"];
  const evalS = ordered.reduce((a, { doc }) => a + doc.aggregated.eval_s, 0);
  return {
    env: first.doc.env,
    policy: first.doc.policy,
    seed_start: first.doc.seed_start,
    settings: first.doc.shard.settings,
    aggregated: aggregate(per_episode, evalS),
    per_episode,
    loop: summarizeLoop(expandLoopEvents(concatLoopEvents(ordered.map(({ doc }) => doc.loop_events)))),
    files: { gifs: ordered.flatMap(({ doc }) => doc.files.gifs) },
  };
}
