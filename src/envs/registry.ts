/**
 * Env registry with versioned ids ("pusht-v1") and lazy loading: an entry names a loader, so registering costs
 * nothing until the env is made. Unknown ids error with the nearest known ids.
 */
import { ScdError } from "../errors.ts";
import { nearest } from "../util/nearest.ts";
import type { Env } from "./types.ts";
import { TimeLimit, ClipAction } from "./wrappers.ts";

/** A registered env: its versioned id, a lazy loader of its factory, and the wrappers and defaults it gets. */
export interface EnvSpec {
  id: string;
  description: string;
  /** Load the env's module and return its factory (options → env); called on the first make. */
  load: () => Promise<(options: Record<string, unknown>) => Env>;
  maxEpisodeSteps?: number;
  clipActions?: boolean;
  defaults?: Record<string, unknown>;
}

const REGISTRY = new Map<string, EnvSpec>();

/** Add an env to the registry (one line in src/envs/index.ts per env); ids look like "name-v1" and register once. */
export function registerEnv(spec: EnvSpec): void {
  if (!/^[a-z0-9-]+-v\d+$/.test(spec.id)) throw new Error(`env id "${spec.id}" must look like "name-v1"`);
  if (REGISTRY.has(spec.id)) throw new Error(`env "${spec.id}" is registered twice`);
  REGISTRY.set(spec.id, spec);
}

/** The registered env ids, sorted. */
export function envIds(): string[] {
  return [...REGISTRY.keys()].sort();
}

/** The registered env `id`. @throws ScdError "<where>: unknown env …" with a suggestion and the registered ids. */
export function envSpec(id: string, where?: string): EnvSpec {
  const spec = REGISTRY.get(id);
  if (!spec) {
    const near = nearest(id, envIds());
    throw new ScdError(`${where ? `${where}: ` : ""}unknown env "${id}"${near ? ` (did you mean "${near}"?)` : ""}; registered: ${envIds().join(", ")}`, "unknown-name");
  }
  return spec;
}

/** Make an env by id, wrapped with its time limit and action clipping (unless disabled). */
export async function makeEnv(id: string, options: Record<string, unknown> = {}, wrap: { timeLimit?: boolean; clip?: boolean } = {}): Promise<Env> {
  const spec = envSpec(id);
  const factory = await spec.load();
  let env = factory({ ...spec.defaults, ...options });
  if (spec.clipActions && wrap.clip !== false) env = new ClipAction(env);
  if (spec.maxEpisodeSteps && wrap.timeLimit !== false) env = new TimeLimit(env, spec.maxEpisodeSteps);
  return env;
}
