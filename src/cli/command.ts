import type { FlagSpecs, Flags } from "./args.ts";

export interface Command {
  name: string; // "dataset inspect"
  summary: string;
  usage: string; // after "scd <name> "
  flags: FlagSpecs;
  minPositional?: number;
  run(positional: string[], flags: Flags): Promise<void>;
}

export const BACKEND_FLAG = { backend: { type: "string", desc: "tensor backend: tensorflow-gpu | tensorflow | wasm | cpu (or SCD_BACKEND)" } } as const;

/** Print to stdout: JSON when asked for, else text. */
export function out(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : text + "\n");
}
