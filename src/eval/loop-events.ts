/**
 * Loop events in a compact, JSON-safe column form (no action vectors), so a shard report carries what
 * `summarizeLoop` needs and merged shards give exactly the single run's loop summary (quantiles cannot be
 * merged from quantiles). JSON numbers round-trip exactly, so expand(compact(e)) summarizes like e.
 */
import { z } from "zod";
import type { LoopEvent } from "../loop/loop.ts";

const nums = z.array(z.number());
export const CompactLoopEvents = z.object({
  action: z.object({ tick: nums, t: nums, scheduledT: nums, tickT: nums, source: z.array(z.string()), queueDepth: nums }),
  inference: z.object({ tick: nums, t: nums, ms: nums }),
  miss: z.object({ tick: nums, t: nums, reason: z.array(z.string()) }),
  error: z.object({ tick: nums, t: nums, reason: z.array(z.string()) }),
});
export type CompactLoopEvents = z.infer<typeof CompactLoopEvents>;

export function compactLoopEvents(events: readonly LoopEvent[]): CompactLoopEvents {
  const c: CompactLoopEvents = {
    action: { tick: [], t: [], scheduledT: [], tickT: [], source: [], queueDepth: [] },
    inference: { tick: [], t: [], ms: [] },
    miss: { tick: [], t: [], reason: [] },
    error: { tick: [], t: [], reason: [] },
  };
  for (const e of events) {
    if (e.type === "action") {
      const a = c.action;
      a.tick.push(e.tick), a.t.push(e.t), a.scheduledT.push(e.scheduledT), a.tickT.push(e.tickT), a.source.push(e.source), a.queueDepth.push(e.queueDepth);
    } else if (e.type === "inference") c.inference.tick.push(e.tick), c.inference.t.push(e.t), c.inference.ms.push(e.ms);
    else c[e.type].tick.push(e.tick), c[e.type].t.push(e.t), c[e.type].reason.push(e.reason);
  }
  return c;
}

/** Events back from columns: each type keeps its order (all `summarizeLoop` depends on); actions carry no vector. */
export function expandLoopEvents(c: CompactLoopEvents): LoopEvent[] {
  const out: LoopEvent[] = [];
  const a = c.action;
  const none = new Float32Array(0);
  for (let i = 0; i < a.tick.length; i++)
    out.push({ type: "action", tick: a.tick[i], t: a.t[i], scheduledT: a.scheduledT[i], tickT: a.tickT[i], action: none, source: a.source[i] as Extract<LoopEvent, { type: "action" }>["source"], queueDepth: a.queueDepth[i] });
  c.inference.tick.forEach((tick, i) => out.push({ type: "inference", tick, t: c.inference.t[i], ms: c.inference.ms[i] }));
  for (const type of ["miss", "error"] as const) c[type].tick.forEach((tick, i) => out.push({ type, tick, t: c[type].t[i], reason: c[type].reason[i] }));
  return out;
}

/** Concatenate shards' columns in shard order (= seed order). */
export function concatLoopEvents(parts: readonly CompactLoopEvents[]): CompactLoopEvents {
  const cat = <T extends Record<string, unknown[]>>(k: (p: CompactLoopEvents) => T): T =>
    Object.fromEntries(Object.keys(k(parts[0])).map((f) => [f, parts.flatMap((p) => k(p)[f])])) as T;
  return { action: cat((p) => p.action), inference: cat((p) => p.inference), miss: cat((p) => p.miss), error: cat((p) => p.error) };
}
