/**
 * MCAP logs of the control loop for Foxglove (@mcap/core): JSON messages with JSON schemas, one channel per
 * observation feature plus the executed action, the predicted chunks and the loop's misses and errors.
 *   /observation/<feature>  {episode, tick, data: number[]}                per tick: what the loop acted on
 *   /action                 {episode, tick, action: number[], fallback}    per tick: what was executed
 *   /policy/chunk           {episode, tick, inference_ms, actions: number[][]}  per chunk [H, A]
 *   /loop/event             {episode, tick, type: "miss" | "error", reason}
 * Written to "<file>.partial" and renamed on close, so a crash never leaves a file that looks complete.
 */
import * as fs from "node:fs";
import { McapWriter } from "@mcap/core";
import { FileHandleWritable } from "@mcap/nodejs";
import type { LogRecorder, RecorderInfo } from "../../src/data/formats.ts";
import type { LoopEvent } from "../../src/loop/loop.ts";
import type { Obs } from "../../src/env/types.ts";

const num = { type: "number" }, int = { type: "integer" };
const numbers = { type: "array", items: num };
const object = (title: string, properties: Record<string, unknown>) => ({ title, type: "object", properties, required: Object.keys(properties) });
export const SCHEMAS = {
  observation: object("scd.Observation", { episode: int, tick: int, data: numbers }),
  action: object("scd.Action", { episode: int, tick: int, action: numbers, fallback: { type: "boolean" } }),
  chunk: object("scd.ActionChunk", { episode: int, tick: int, inference_ms: num, actions: { type: "array", items: numbers } }),
  event: object("scd.LoopEvent", { episode: int, tick: int, type: { type: "string", enum: ["miss", "error"] }, reason: { type: "string" } }),
};

const enc = new TextEncoder();
const ns = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

export class McapLog implements LogRecorder {
  private chain: Promise<unknown> = Promise.resolve();
  private failure: unknown = null;
  private readonly channels = new Map<string, number>();
  private readonly seq = new Map<number, number>();
  private lastNs = 0n;

  private constructor(private readonly file: string, private readonly fh: fs.promises.FileHandle, private readonly w: McapWriter, private readonly info: RecorderInfo, private readonly schemaIds: Record<keyof typeof SCHEMAS, number>) {}

  static async open(file: string, info: RecorderInfo): Promise<McapLog> {
    const fh = await fs.promises.open(`${file}.partial`, "w");
    const w = new McapWriter({ writable: new FileHandleWritable(fh) });
    await w.start({ profile: "", library: "scd-policy" });
    const ids = {} as Record<keyof typeof SCHEMAS, number>;
    for (const [k, s] of Object.entries(SCHEMAS)) ids[k as keyof typeof SCHEMAS] = await w.registerSchema({ name: s.title, encoding: "jsonschema", data: enc.encode(JSON.stringify(s)) });
    const meta = new Map(Object.entries({ env: info.env ?? "", period_ms: String(info.periodMs), ...Object.fromEntries(Object.entries(info.meta ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])) }));
    await w.addMetadata({ name: "scd", metadata: meta });
    return new McapLog(file, fh, w, info, ids);
  }

  /** Queue one write: McapWriter needs each call to finish before the next starts. */
  private put(topic: string, schema: keyof typeof SCHEMAS, timeMs: number, msg: unknown): void {
    let t = ns(timeMs);
    if (t < this.lastNs) t = this.lastNs; // log times never go back, even if the caller's clock jitters
    this.lastNs = t;
    const data = enc.encode(JSON.stringify(msg));
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        let id = this.channels.get(topic);
        if (id === undefined) {
          id = await this.w.registerChannel({ topic, messageEncoding: "json", schemaId: this.schemaIds[schema], metadata: new Map() });
          this.channels.set(topic, id);
        }
        const sequence = (this.seq.get(id) ?? 0) + 1;
        this.seq.set(id, sequence);
        await this.w.addMessage({ channelId: id, sequence, logTime: t, publishTime: t, data });
      } catch (e) {
        this.failure = e;
      }
    });
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

  async close(): Promise<void> {
    await this.chain;
    if (!this.failure) await this.w.end().catch((e) => (this.failure = e));
    await this.fh.close();
    if (this.failure) {
      fs.rmSync(`${this.file}.partial`, { force: true });
      throw this.failure;
    }
    fs.renameSync(`${this.file}.partial`, this.file);
  }
}
