/** A small argv parser with per-command flag specs: unknown flags and bad values are user errors (exit 2). */
import { ScdError } from "../errors.ts";
import { nearest } from "../util/nearest.ts";

export type FlagType = "string" | "number" | "int" | "boolean";
/**
 * A flag's type, help text and default. Numeric flags must state their smallest accepted value (`min`), so no
 * command takes a count of 0 or −3 by omission; `max` is optional.
 */
export type FlagSpec =
  | { type: "string" | "boolean"; desc: string; default?: string | boolean; min?: undefined; max?: undefined }
  | { type: "number" | "int"; desc: string; default?: number; min: number; max?: number };
export type FlagSpecs = Record<string, FlagSpec>;
export type Flags = Record<string, string | number | boolean | undefined>;

export interface Parsed {
  positional: string[];
  flags: Flags;
}

export { nearest };

export function parseArgs(argv: string[], specs: FlagSpecs, command: string): Parsed {
  const positional: string[] = [];
  const flags: Flags = {};
  for (const [k, s] of Object.entries(specs)) if (s.default !== undefined) flags[k] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--") || a === "-") {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const spec = specs[name];
    if (!spec) {
      const near = nearest(name, Object.keys(specs));
      throw new ScdError(`unknown flag --${name} for "scd ${command}"${near ? ` (did you mean --${near}?)` : ""}; valid: ${Object.keys(specs).map((k) => `--${k}`).join(" ") || "none"}`, "unknown-name");
    }
    if (spec.type === "boolean") {
      flags[name] = eq < 0 ? true : !["false", "0", "no"].includes(a.slice(eq + 1));
      continue;
    }
    let v = eq < 0 ? argv[++i] : a.slice(eq + 1);
    if (v === undefined || (eq < 0 && v.startsWith("--"))) throw new ScdError(`flag --${name} of "scd ${command}" needs a value (${spec.desc})`);
    if (spec.type === "number" || spec.type === "int") {
      const n = Number(v);
      if (v.trim() === "" || !Number.isFinite(n) || (spec.type === "int" && !Number.isInteger(n)))
        throw new ScdError(`flag --${name} of "scd ${command}" must be ${spec.type === "int" ? "an integer" : "a number"}, got "${v}"`);
      if (spec.min !== undefined && n < spec.min) throw new ScdError(`flag --${name} of "scd ${command}" must be ≥ ${spec.min}, got ${v}`);
      if (spec.max !== undefined && n > spec.max) throw new ScdError(`flag --${name} of "scd ${command}" must be ≤ ${spec.max}, got ${v}`);
      flags[name] = n;
    } else flags[name] = v;
  }
  return { positional, flags };
}

export function flagHelp(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([k, s]) => (`  --${k}${s.type === "boolean" ? "" : ` <${s.type}>`}` + "  ").padEnd(26) + s.desc + (s.default !== undefined && s.default !== false ? ` (default ${s.default})` : ""))
    .join("\n");
}
