/** A small argv parser with per-command flag specs: unknown flags and bad values are user errors (exit 2). */
import { ScdError } from "../errors.ts";

export type FlagType = "string" | "number" | "int" | "boolean";
export interface FlagSpec {
  type: FlagType;
  desc: string;
  default?: string | number | boolean;
}
export type FlagSpecs = Record<string, FlagSpec>;
export type Flags = Record<string, string | number | boolean | undefined>;

export interface Parsed {
  positional: string[];
  flags: Flags;
}

function nearest(name: string, options: string[]): string | null {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length][b.length];
  };
  let best: string | null = null, bd = Infinity;
  for (const o of options) {
    const dd = dist(name, o);
    if (dd < bd) [best, bd] = [o, dd];
  }
  return bd <= Math.max(2, name.length / 3) ? best : null;
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
      throw new ScdError(`unknown flag --${name} for "scd ${command}"${near ? ` (did you mean --${near}?)` : ""}; valid: ${Object.keys(specs).map((k) => `--${k}`).join(" ") || "none"}`);
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
      flags[name] = n;
    } else flags[name] = v;
  }
  return { positional, flags };
}

export function flagHelp(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([k, s]) => `  --${k}${s.type === "boolean" ? "" : ` <${s.type}>`}`.padEnd(26) + s.desc + (s.default !== undefined && s.default !== false ? ` (default ${s.default})` : ""))
    .join("\n");
}
