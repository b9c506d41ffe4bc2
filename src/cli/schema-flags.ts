/**
 * Command-line flags derived from a zod object schema, so a config has one list of knobs: every key becomes a
 * --kebab-case flag whose type, bounds and help text (`.describe()`) are read from the schema, and flags map back
 * to config keys. Strings, enums, numbers and booleans are flags as such; string arrays are comma-separated; records are
 * JSON objects. A new config field is a new flag with no second table to keep.
 */
import type { z } from "zod";
import { ScdError } from "../errors.ts";
import type { FlagSpec, FlagSpecs, Flags } from "./args.ts";

/** camelCase config key → kebab-case flag name. */
export const flagName = (key: string): string => key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());

interface Def {
  type: string;
  innerType?: unknown;
  defaultValue?: unknown;
  checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string } } }[];
}
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

/** The schema inside default/optional wrappers, and the default value if one is set. */
function unwrap(s: unknown): { inner: unknown; dflt: unknown } {
  let dflt: unknown;
  let u = s;
  for (let d = defOf(u); d.innerType; d = defOf(u)) {
    if (d.type === "default") dflt = typeof d.defaultValue === "function" ? (d.defaultValue as () => unknown)() : d.defaultValue;
    u = d.innerType;
  }
  return { inner: u, dflt };
}

/** One flag's spec from one schema field. @throws Error for a field type flags cannot carry, or a number without a lower bound. */
function flagSpec(key: string, field: unknown): { spec: FlagSpec; kind: "plain" | "list" | "json" } {
  const { inner, dflt } = unwrap(field);
  const d = defOf(inner);
  const described = (field as { description?: string }).description ?? (inner as { description?: string }).description ?? key;
  const desc = dflt !== undefined && !/default/.test(described) && !(typeof dflt === "object") ? `${described} (default ${dflt})` : described;
  if (d.type === "string") return { spec: { type: "string", desc }, kind: "plain" };
  // an enum is a string flag; the schema refuses other values with the choices
  if (d.type === "enum") return { spec: { type: "string", desc: `${desc}: ${Object.keys((d as { entries?: Record<string, unknown> }).entries ?? {}).join(" | ")}` }, kind: "plain" };
  if (d.type === "boolean") return { spec: { type: "boolean", desc }, kind: "plain" };
  if (d.type === "array") return { spec: { type: "string", desc }, kind: "list" };
  if (d.type === "record" || d.type === "object") return { spec: { type: "string", desc }, kind: "json" };
  if (d.type === "number") {
    const checks = (d.checks ?? []).map((c) => c._zod.def);
    const int = checks.some((c) => c.check === "number_format" && /int/.test(c.format ?? ""));
    const lo = checks.find((c) => c.check === "greater_than");
    const hi = checks.find((c) => c.check === "less_than");
    if (!lo) throw new Error(`config field "${key}" needs a lower bound to be a flag`);
    // an exclusive bound on an integer is the next integer; on a real number the schema refuses the bound itself
    const min = int && !lo.inclusive ? lo.value! + 1 : lo.value!;
    return { spec: { type: int ? "int" : "number", desc, min, ...(hi ? { max: hi.value } : {}) }, kind: "plain" };
  }
  throw new Error(`config field "${key}" has type ${d.type}, which has no flag form`);
}

/** Flags for every key of `schema` not in `skip`, and the functions between flags and config keys. */
export function schemaFlags(schema: z.ZodObject, skip: string[] = []) {
  const fields = Object.entries(schema.shape).filter(([k]) => !skip.includes(k));
  const built = fields.map(([k, f]) => [k, flagName(k), flagSpec(k, f)] as const);
  const flags: FlagSpecs = Object.fromEntries(built.map(([, n, { spec }]) => [n, spec]));
  return {
    flags,
    /** The config keys given as flags (absent flags are absent keys, so defaults and --config files still apply). */
    toConfig(given: Flags): Record<string, unknown> {
      const raw: Record<string, unknown> = {};
      for (const [key, name, { kind }] of built) {
        const v = given[name];
        if (v === undefined) continue;
        if (kind === "list") raw[key] = String(v).split(",").map((s) => s.trim()).filter(Boolean);
        else if (kind === "json") raw[key] = parseJsonObject(String(v), `--${name}`);
        else raw[key] = v;
      }
      return raw;
    },
    /** A config key as the user spells it on the command line, or null when it has no flag. */
    flagOf: (key: string): string | null => (built.some(([k]) => k === key) ? `--${flagName(key)}` : null),
  };
}

/** A JSON object from a flag's or file's text. @throws ScdError naming `what` and the text. */
export function parseJsonObject(v: string, what: string): Record<string, unknown> {
  try {
    const o = JSON.parse(v);
    if (!o || typeof o !== "object" || Array.isArray(o)) throw new Error("not an object");
    return o;
  } catch (e) {
    throw new ScdError(`${what} must be a JSON object, got ${JSON.stringify(v)} (${(e as Error).message})`);
  }
}
