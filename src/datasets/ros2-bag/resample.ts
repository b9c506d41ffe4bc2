/**
 * Recorded topics → a dataset: every control tick (at `rateHz`) takes, per mapped topic, the newest sample logged at
 * or before the tick (a sample up to 0.1 ms after it counts as at it, for logs written on a tick clock); a tick where
 * some topic's newest sample is older than `maxAgeMs` (or missing) is stale. Stale ticks before the first fresh one
 * are the start-up; a stale tick later ends the episode there (the next fresh tick starts a new one), so an
 * episode's steps are always evenly spaced in time. Episodes: a whole recording, or the spans a marker topic
 * opens and closes (std_msgs Bool `data`: true starts, false stops; String `data`: "start" / "stop").
 */
import { ScdError } from "../../errors.ts";
import { type Episode } from "../episodes.ts";
import { parseRosType } from "../ros-messages.ts";
import { decodeFields, type MessageField } from "../ros-fields.ts";
import type { Recording, TopicInfo } from "./source.ts";

/** One mapped topic: its name, its type (checked against the bag's), and the fields that give the values. */
export interface BagBinding {
  topic: string;
  type?: string;
  fields: MessageField[];
}

/**
 * What to import from a bag: a topic map (`scd run`'s, src/ros/topic-map.ts) or any object of this shape.
 * Times in ms; `rateHz` in Hz.
 */
export interface BagMap {
  observations: (BagBinding & { feature: string })[];
  action: BagBinding;
  /** Samples older than this at a tick make it stale (ms). */
  maxAgeMs: number;
  /** Array fields longer than this are malformed. */
  maxArrayLength: number;
  /** Control ticks per second of the dataset (default: the bag's own period from scd metadata, else 10). */
  rateHz?: number;
  /** Episodes from a marker topic (std_msgs Bool or String, field `data`); default: one per recording. */
  episodes?: { topic: string; type?: string };
  /** Sample times: when the bag logged the message ("log", default), or its header.stamp ("header"). */
  stamp?: "log" | "header";
}

/** Episodes cut from one recording and what happened on the way (one line each). */
export interface Resampled {
  episodes: Episode[];
  notes: string[];
  malformed: number;
}

const TOL_NS = 100_000; // 0.1 ms

const listTopics = (topics: Map<string, TopicInfo>) =>
  [...topics.values()].map((t) => `${t.topic} (${t.type}, ${t.messages} messages)`).join(", ") || "none";

/** @throws ScdError naming the bag, the map's name, the topic and the bag's topics when a mapped topic is missing or of another type. */
export function checkTopics(rec: Recording, map: BagMap, mapName: string): void {
  const need: [string, BagBinding][] = [...map.observations.map((o) => [`observation "${o.feature}"`, o] as [string, BagBinding]), ["action", map.action]];
  if (map.episodes) need.push(["episode marker", { topic: map.episodes.topic, type: map.episodes.type, fields: [] }]);
  for (const [what, b] of need) {
    const t = rec.topics.get(b.topic);
    if (!t) throw new ScdError(`${rec.files.join(", ")}: ${mapName} maps ${what} to topic ${b.topic}, which is not in the bag; the bag's topics: ${listTopics(rec.topics)}`, "bad-value");
    if (!((t.encoding === "cdr" && t.schemaEncoding === "ros2msg") || (t.encoding === "ros1" && ["ros1msg", "ros1"].includes(t.schemaEncoding))))
      throw new ScdError(`${rec.files.join(", ")}: topic ${b.topic} has schema ${JSON.stringify(t.type)} in encoding ${JSON.stringify(t.schemaEncoding)} with ${JSON.stringify(t.encoding)} messages; scd reads cdr messages with ros2msg schemas (ROS 2) and ros1 messages with ros1msg schemas (ROS 1)`, "incompatible");
    if (b.type && t.type && parseRosType(b.type).ros1 !== safeRos1(t.type))
      throw new ScdError(`${rec.files.join(", ")}: ${mapName} says ${b.topic} (${what}) is ${b.type}, the bag records it as ${t.type}`, "bad-value");
  }
}

const safeRos1 = (type: string): string => {
  try {
    return parseRosType(type).ros1;
  } catch {
    return type;
  }
};

const stampNs = (msg: Record<string, unknown>): bigint | null => {
  const s = (msg.header as Record<string, Record<string, number>> | undefined)?.stamp;
  if (!s) return null;
  const sec = s.sec ?? s.secs, ns = s.nanosec ?? s.nsec ?? s.nsecs;
  return typeof sec === "number" && typeof ns === "number" ? BigInt(sec) * 1_000_000_000n + BigInt(ns) : null;
};

/**
 * Read one recording's mapped topics and cut it into evenly spaced episodes at `rateHz`.
 * With `stamp: "header"`, messages that have a header.stamp are placed by it, others by their log time.
 * @throws ScdError from {@link checkTopics}.
 */
export async function resampleRecording(rec: Recording, map: BagMap, mapName: string, rateHz: number): Promise<Resampled> {
  checkTopics(rec, map, mapName);
  const bindings = [...map.observations.map((o) => ({ name: o.feature, b: o as BagBinding })), { name: "action", b: map.action }];
  const samples = new Map<string, { t: number; v: Float32Array }[]>(bindings.map((x) => [x.name, []]));
  const markers: { t: number; on: boolean }[] = [];
  const notes: string[] = [];
  const bad = new Map<string, { n: number; first: string }>();
  let t0: bigint | null = null, tEnd = 0;
  const topics = [...new Set([...bindings.map((x) => x.b.topic), ...(map.episodes ? [map.episodes.topic] : [])])];
  for await (const m of rec.read(topics)) {
    let at = m.logTimeNs;
    if (map.stamp === "header") at = stampNs(m.msg) ?? at; // messages without a header keep their log time
    t0 ??= at;
    const t = Number(at - t0);
    tEnd = Math.max(tEnd, t);
    if (map.episodes && m.topic === map.episodes.topic) {
      const d = m.msg.data;
      const on = typeof d === "boolean" ? d : typeof d === "string" ? (/^start$/i.test(d) ? true : /^stop$/i.test(d) ? false : null) : null;
      if (on !== null) markers.push({ t, on });
      continue;
    }
    for (const { name, b } of bindings) {
      if (b.topic !== m.topic) continue;
      const r = decodeFields(m.msg, b.fields, map.maxArrayLength);
      const arr = samples.get(name)!;
      const err = "error" in r ? r.error : arr.length && r.values.length !== arr[0].v.length ? `${r.values.length} values, earlier messages gave ${arr[0].v.length}` : null;
      if (err !== null) {
        const e = bad.get(b.topic) ?? { n: 0, first: err };
        e.n++;
        bad.set(b.topic, e);
        continue;
      }
      arr.push({ t, v: (r as { values: Float32Array }).values });
    }
  }
  let malformed = 0;
  for (const [topic, e] of bad) {
    malformed += e.n;
    notes.push(`${rec.name}: ${e.n} malformed message(s) on ${topic} skipped, the first: ${e.first}`);
  }
  for (const s of samples.values()) s.sort((a, b) => a.t - b.t);
  markers.sort((a, b) => a.t - b.t);
  const spans: [number, number][] = [];
  if (map.episodes) {
    let open: number | null = null;
    for (const mk of markers) {
      if (mk.on && open === null) open = mk.t;
      else if (!mk.on && open !== null) spans.push([open, mk.t]), (open = null);
    }
    if (open !== null) spans.push([open, tEnd]), notes.push(`${rec.name}: the last episode was not stopped on ${map.episodes.topic}; it runs to the end of the bag`);
    if (!spans.length) notes.push(`${rec.name}: no episode started on ${map.episodes.topic} (${markers.length} marker messages)`);
  } else spans.push([0, tEnd]);
  const period = 1e9 / rateHz, maxAge = map.maxAgeMs * 1e6;
  const episodes: Episode[] = [];
  for (const [s, e] of spans) {
    const ptr = new Map(bindings.map((x) => [x.name, -1]));
    let rows: { t: number; vals: Float32Array[] }[] = [];
    let stale = 0, fresh = 0;
    const flush = () => {
      if (rows.length >= 2) episodes.push(toEpisode(rows, bindings.map((x) => x.name)));
      else if (rows.length) notes.push(`${rec.name}: a 1-step piece at ${(rows[0].t / 1e9).toFixed(3)} s dropped`);
      rows = [];
    };
    for (let k = 0; ; k++) {
      const t = s + Math.round(k * period);
      if (t > e + TOL_NS) break;
      const vals: Float32Array[] = [];
      let why: string | null = null;
      for (const { name, b } of bindings) {
        const arr = samples.get(name)!;
        let p = ptr.get(name)!;
        while (p + 1 < arr.length && arr[p + 1].t <= t + TOL_NS) p++;
        ptr.set(name, p);
        if (p < 0) why ??= `no sample on ${b.topic} yet`;
        else if (t - arr[p].t > maxAge) why ??= `${b.topic}'s newest sample is ${((t - arr[p].t) / 1e6).toFixed(0)} ms old (maxAgeMs ${map.maxAgeMs})`;
        else vals.push(arr[p].v);
      }
      if (why === null) {
        rows.push({ t, vals });
        fresh++;
        continue;
      }
      if (fresh > 0) {
        stale++;
        if (rows.length) notes.push(`${rec.name}: episode split at ${((t - s) / 1e9).toFixed(3)} s into the span: ${why}`);
        flush();
      }
    }
    flush();
    if (!fresh) notes.push(`${rec.name}: the span ${(s / 1e9).toFixed(3)}–${(e / 1e9).toFixed(3)} s has no tick with every topic fresh`);
    else if (stale) notes.push(`${rec.name}: ${stale} stale tick(s) left out`);
  }
  return { episodes, notes, malformed };
}

function toEpisode(rows: { t: number; vals: Float32Array[] }[], names: string[]): Episode {
  const ep: Episode = {};
  names.forEach((n, j) => {
    const d = rows[0].vals[j].length;
    const a = new Float32Array(rows.length * d);
    rows.forEach((r, i) => a.set(r.vals[j], i * d));
    ep[n] = a;
  });
  ep.timestamp = Float32Array.from(rows, (r) => (r.t - rows[0].t) / 1e6);
  return ep;
}
