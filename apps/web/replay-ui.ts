/**
 * The page's Replay box: load a dataset file (or the shipped demonstrations), replay an episode of it in the current
 * env from its recorded start, stop at its last recorded step, and scrub a timeline: a Push-T episode restarts at
 * any step from the state recorded there (observation.state), its recorded actions from that step on.
 */
import type { EpisodeBuffer } from "../../src/datasets/episodes.ts";
import { decodeDataset } from "../../src/datasets/native-bytes.ts";
import type { ChunkPolicy, Frame } from "../../src/policies/types.ts";
import type { LiveEnv } from "../../src/web/live-env.ts";
import { episodeIndex, InputError } from "./inputs.ts";

export interface ReplayUiDeps {
  env(): LiveEnv;
  status(s: string): void;
  fail(e: unknown): void;
  /** Start `policy` as a replay of episode `k` from its step `from`, for `steps` steps (the env is restarted already). */
  replay(policy: ChunkPolicy, k: number, from: number, steps: number): void;
}

/** Episode `k`'s recorded actions from step `from` on, one per tick (open loop, as the `replay` policy). */
class ActionsFrom implements ChunkPolicy {
  readonly name = "replay";
  readonly horizon = 1;
  private i = -1;
  constructor(readonly actionDim: number, private readonly actions: Float32Array) {}
  reset(): void {
    this.i = -1;
  }
  observe(_f: Frame): void {
    this.i++;
  }
  sampleChunk(): Float32Array {
    const n = this.actions.length / this.actionDim, i = Math.min(Math.max(this.i, 0), n - 1);
    return this.actions.slice(i * this.actionDim, (i + 1) * this.actionDim);
  }
}

/**
 * Why `d`'s episodes do not belong to `env`, or null when they may: the action must have the env's shape, the
 * observation features both have must agree in shape, and at least one must be shared (a replay executes only the
 * actions, so the observations are the evidence of which env recorded them).
 */
export function datasetMismatch(d: EpisodeBuffer, env: LiveEnv, name: string): string | null {
  const act = d.schema.action;
  if (!act) return `${name} has no "action"`;
  if (act.shape.join("×") !== env.actionSpace.shape.join("×")) return `${name}: "action" has shape [${act.shape}], ${env.id} has [${env.actionSpace.shape}]`;
  const shared = Object.keys(env.observationSpace).filter((k) => d.schema[k]);
  for (const k of shared) {
    const a = d.schema[k].shape, b = env.observationSpace[k].shape;
    if (a.join("×") !== b.join("×")) return `${name}: "${k}" has shape [${a}], ${env.id} has [${b}]`;
  }
  if (!shared.length) return `${name} has none of ${env.id}'s observations (${Object.keys(env.observationSpace).join(", ")})`;
  return null;
}

export interface ReplayUi {
  /** Show the replay's position (called every frame); `steps`: the env's steps since the replay (re)started. */
  show(steps: number | null): void;
}

export function wireReplay(d: ReplayUiDeps): ReplayUi {
  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
  const line = $<HTMLInputElement>("timeline"), at = $("timeline-at");
  let dataset: EpisodeBuffer | null = null, name = "";
  let cur: { k: number; len: number; from: number; exact: boolean } | null = null;
  const useData = (bytes: Uint8Array, file: string) => {
    dataset = decodeDataset(bytes, file).buffer;
    name = file;
    const n = dataset.episodeEnds.length;
    $<HTMLInputElement>("episode").max = String(n - 1);
    $<HTMLButtonElement>("replay").disabled = false;
    $("data-info").textContent = `${file}: ${n} episodes, ${dataset.episodeEnds[n - 1] ?? 0} steps`;
  };
  /** Restart episode `k` at step `from` (its recorded state there when the env takes one, else its start). */
  const start = (k: number, from: number) => {
    const data = dataset!, env = d.env();
    const bad = datasetMismatch(data, env, name);
    if (bad) throw new InputError(`cannot replay: ${bad}`);
    const s0 = k ? data.episodeEnds[k - 1] : 0, len = data.episodeEnds[k] - s0, a = data.schema.action.shape.reduce((x, y) => x * y, 1);
    const st = data.data["observation.state"];
    // Push-T restarts exactly from a recorded state (agent x, y, block x, y, angle); elsewhere only from the start
    const exact = (env.id === "pusht-v1" || env.id === "pusht-image-v1") && !!st && data.schema["observation.state"].shape[0] === 5;
    const f = exact ? Math.max(0, Math.min(from, len - 1)) : 0;
    env.restart(k, exact ? Array.from(st.subarray((s0 + f) * 5, (s0 + f) * 5 + 5)) : undefined);
    cur = { k, len, from: f, exact };
    line.max = String(len);
    line.disabled = !exact;
    d.replay(new ActionsFrom(a, Float32Array.from(data.data.action.subarray((s0 + f) * a, (s0 + len) * a))), k, f, len - f);
    return f;
  };
  $<HTMLInputElement>("file").onchange = async () => {
    const f = $<HTMLInputElement>("file").files?.[0];
    if (f) await Promise.resolve().then(async () => useData(new Uint8Array(await f.arrayBuffer()), f.name)).catch(d.fail);
  };
  $("demos").onclick = async () => {
    await fetch("data/pusht_human.scdd").then(async (r) => useData(new Uint8Array(await r.arrayBuffer()), "pusht_human.scdd")).catch(d.fail);
  };
  $("replay").onclick = () => {
    try {
      const k = episodeIndex(dataset!.episodeEnds.length);
      start(k, 0);
      d.status(`replaying episode ${k} of ${name} (${cur!.len} steps, as recorded)${cur!.exact ? "; drag the timeline to jump" : ""}`);
    } catch (e) {
      d.fail(e);
    }
  };
  line.oninput = () => {
    if (!cur) return;
    try {
      const f = start(cur.k, Number(line.value));
      d.status(`episode ${cur.k} of ${name} from step ${f} of ${cur.len}`);
    } catch (e) {
      d.fail(e);
    }
  };
  return {
    show(steps) {
      if (steps === null) {
        cur = null;
        line.disabled = true;
      }
      const pos = cur && steps !== null ? Math.min(cur.len, cur.from + steps) : 0;
      if (document.activeElement !== line) line.value = String(pos);
      at.textContent = cur ? `${pos} / ${cur.len}` : "0 / 0";
    },
  };
}
