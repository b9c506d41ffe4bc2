/** The page's Replay box: load a dataset file (or the shipped demonstrations) and replay an episode of it in the current env. */
import type { EpisodeBuffer } from "../../src/datasets/episodes.ts";
import { decodeDataset } from "../../src/datasets/native-bytes.ts";
import { ReplayPolicy } from "../../src/policies/replay.ts";
import type { ChunkPolicy } from "../../src/policies/types.ts";
import type { LiveEnv } from "../../src/web/live-env.ts";
import { episodeIndex, InputError } from "./inputs.ts";

export interface ReplayUiDeps {
  env(): LiveEnv;
  status(s: string): void;
  fail(e: unknown): void;
  /** Start `policy` as a replay of episode `k` (the env is restarted already). */
  replay(policy: ChunkPolicy, k: number): void;
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

export function wireReplay(d: ReplayUiDeps): void {
  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
  let dataset: EpisodeBuffer | null = null, name = "";
  const useData = (bytes: Uint8Array, file: string) => {
    dataset = decodeDataset(bytes, file).buffer;
    name = file;
    const n = dataset.episodeEnds.length;
    $<HTMLInputElement>("episode").max = String(n - 1);
    $<HTMLButtonElement>("replay").disabled = false;
    $("data-info").textContent = `${file}: ${n} episodes, ${dataset.episodeEnds[n - 1] ?? 0} steps`;
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
      const data = dataset!, env = d.env(), k = episodeIndex(data.episodeEnds.length);
      const bad = datasetMismatch(data, env, name);
      if (bad) throw new InputError(`cannot replay: ${bad}`);
      const s0 = k ? data.episodeEnds[k - 1] : 0;
      const st = data.data["observation.state"];
      // Push-T episodes start from their recorded state (agent x, y, block x, y, angle)
      env.restart(k, env.id === "pusht-v1" && st ? Array.from(st.subarray(s0 * 5, s0 * 5 + 5)) : undefined);
      d.replay(new ReplayPolicy(data), k);
      d.status(`replaying episode ${k} of ${name}`);
    } catch (e) {
      d.fail(e);
    }
  };
}
