/**
 * MCAP logs of the control loop for Foxglove (@mcap/core): JSON messages with JSON schemas, one channel per
 * observation feature plus the executed action, the predicted chunks and the loop's misses and errors.
 *   /observation/<feature>  {episode, tick, data: number[]}                per tick: what the loop acted on
 *   /action                 {episode, tick, action: number[], fallback}    per tick: what was executed
 *   /policy/chunk           {episode, tick, inference_ms, actions: number[][]}  per chunk [H, A]
 *   /loop/event             {episode, tick, type: "miss" | "error", reason}
 * While recording, "<file>.partial" is a plain MCAP record stream, appended to at least every `flushMs` (1 s):
 * a killed recorder loses at most that much, and what is on disk reads with McapStreamReader (`scd salvage` makes
 * it a complete file). close() writes the chunked, indexed file from it (stream.ts) and only then names it <file>.
 */
import * as fs from "node:fs";
import { McapRecordBuilder } from "@mcap/core";
import type { LogRecorder, RecorderInfo } from "../formats.ts";
import type { LoopEvent } from "../events.ts";
import type { Obs } from "../../spaces.ts";
import { indexMcap } from "./stream.ts";
import { ensureParent } from "../../util/outputs.ts";

const num = { type: "number" }, int = { type: "integer" };
const numbers = { type: "array", items: num };
const object = (title: string, properties: Record<string, unknown>) => ({ title, type: "object", properties, required: Object.keys(properties) });
export const SCHEMAS = {
  observation: object("scd.Observation", { episode: int, tick: int, data: numbers }),
  action: object("scd.Action", { episode: int, tick: int, action: numbers, fallback: { type: "boolean" } }),
  chunk: object("scd.ActionChunk", { episode: int, tick: int, inference_ms: num, actions: { type: "array", items: numbers } }),
  event: object("scd.LoopEvent", { episode: int, tick: int, type: { type: "string", enum: ["miss", "error"] }, reason: { type: "string" } }),
};
type SchemaKey = keyof typeof SCHEMAS;
const SCHEMA_IDS: Record<SchemaKey, number> = { observation: 1, action: 2, chunk: 3, event: 4 };

const enc = new TextEncoder();
const ns = (ms: number): bigint => BigInt(Math.round(ms * 1e6));
/** Flush sooner than the timer when this much is buffered (a fast offline evaluation), to bound memory. */
const FLUSH_BYTES = 256 * 1024;

export interface McapLogOptions {
  /** Longest time a record stays in memory before it is appended to the file (ms; default 1000). */
  flushMs?: number;
}

export class McapLog implements LogRecorder {
  private readonly rec = new McapRecordBuilder();
  private readonly channels = new Map<string, number>();
  private readonly seq = new Map<number, number>();
  private readonly written = new Set<number>();
  private readonly timer: ReturnType<typeof setInterval>;
  private failure: unknown = null;
  private lastNs = 0n;
  private closed = false;

  private constructor(private readonly file: string, private readonly fd: number, private readonly info: RecorderInfo, flushMs: number) {
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref(); // a log never keeps the process alive
  }

  /** Start a log at `file` (written as `<file>.partial` until close). @throws on a file that cannot be created. */
  static async open(file: string, info: RecorderInfo, opts: McapLogOptions = {}): Promise<McapLog> {
    const log = new McapLog(file, fs.openSync(ensureParent(`${file}.partial`), "w"), info, opts.flushMs ?? 1000);
    log.rec.writeMagic();
    log.rec.writeHeader({ profile: "", library: "scd-policy" });
    const meta = { env: info.env ?? "", period_ms: String(info.periodMs), ...Object.fromEntries(Object.entries(info.meta ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])) };
    log.rec.writeMetadata({ name: "scd", metadata: new Map(Object.entries(meta)) });
    log.flush();
    if (log.failure) throw log.failure;
    return log;
  }

  /** Append what is buffered to the file; a write error is kept and thrown by close(). */
  private flush(): void {
    if (!this.rec.length || this.failure) return;
    try {
      fs.writeSync(this.fd, this.rec.buffer);
    } catch (e) {
      this.failure = e;
    }
    this.rec.reset();
  }

  private put(topic: string, schema: SchemaKey, timeMs: number, msg: unknown): void {
    if (this.closed || this.failure) return;
    let t = ns(timeMs);
    if (t < this.lastNs) t = this.lastNs; // log times never go back, even if the caller's clock jitters
    this.lastNs = t;
    let id = this.channels.get(topic);
    if (id === undefined) {
      // a stream reader needs a channel's schema and channel records before its first message
      const sid = SCHEMA_IDS[schema];
      if (!this.written.has(sid)) this.rec.writeSchema({ id: sid, name: SCHEMAS[schema].title, encoding: "jsonschema", data: enc.encode(JSON.stringify(SCHEMAS[schema])) });
      this.written.add(sid);
      id = this.channels.size;
      this.channels.set(topic, id);
      this.rec.writeChannel({ id, topic, messageEncoding: "json", schemaId: sid, metadata: new Map() });
    }
    const sequence = (this.seq.get(id) ?? 0) + 1;
    this.seq.set(id, sequence);
    this.rec.writeMessage({ channelId: id, sequence, logTime: t, publishTime: t, data: enc.encode(JSON.stringify(msg)) });
    if (this.rec.length >= FLUSH_BYTES) this.flush();
  }

  tick(timeMs: number, episode: number, tick: number, obs: Obs, action: ArrayLike<number>, fallback: boolean): void {
    for (const [name, v] of Object.entries(obs)) this.put(`/observation/${name}`, "observation", timeMs, { episode, tick, data: Array.from(v) });
    this.put("/action", "action", timeMs, { episode, tick, action: Array.from(action), fallback });
  }

  event(timeMs: number, episode: number, e: LoopEvent): void {
    if (e.type === "inference") {
      const A = Math.max(1, this.info.actionDim), a = e.chunk ? e.chunk.length / A : 0;
      const actions = e.chunk ? Array.from({ length: a }, (_, i) => Array.from(e.chunk!.subarray(i * A, (i + 1) * A))) : [];
      this.put("/policy/chunk", "chunk", timeMs, { episode, tick: e.tick, inference_ms: e.ms, actions });
    } else if (e.type === "miss" || e.type === "error") this.put("/loop/event", "event", timeMs, { episode, tick: e.tick, type: e.type, reason: e.reason });
  }

  /** Flush, write the indexed file and name it `<file>`. @throws the first write error (the partial file is removed). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
    fs.closeSync(this.fd);
    const partial = `${this.file}.partial`;
    if (this.failure) {
      fs.rmSync(partial, { force: true });
      throw this.failure;
    }
    const tmp = `${this.file}.${process.pid}.indexing`;
    try {
      await indexMcap(partial, tmp);
      fs.renameSync(tmp, this.file);
    } catch (e) {
      fs.rmSync(tmp, { force: true }); // the partial stays: `scd salvage` can still recover it
      throw e;
    }
    fs.rmSync(partial);
  }
}
