/** The `scd` command line: finds commands in a table, parses flags per command, turns user errors into exit 2. */
import { ScdError } from "../errors.ts";
import { parseArgs, flagHelp, nearest } from "./args.ts";
import type { Command } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
// the built-ins register here, at the entry point, not as a side effect of core modules
import "../policies/index.ts";
import "../policies/onnx.ts"; // eval/run of an ONNX export directory needs the per-policy runtimes
import "../datasets/index.ts";

function usage(): string {
  return [
    "scd — Separable Causal Diffusion policies: train, run, evaluate",
    "",
    "usage: scd <command> [args] [flags]     (scd <command> --help for its flags)",
    "",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(18)} ${c.summary}`),
  ].join("\n");
}

function findCommand(argv: string[]): { cmd: Command; rest: string[] } {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const cmd = COMMANDS.find((c) => c.name === name);
    if (cmd) return { cmd, rest: argv.slice(words) };
  }
  const tried = argv.slice(0, 2).join(" ");
  const near = nearest(tried, COMMANDS.map((c) => c.name)) ?? nearest(argv[0], COMMANDS.map((c) => c.name));
  throw new ScdError(`unknown command "${tried}"${near ? ` (did you mean "scd ${near}"?)` : ""}; run "scd --help" for the list`, "unknown-name");
}

export async function main(argv: string[]): Promise<number> {
  if (!argv.length || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    process.stdout.write(usage() + "\n");
    return 0;
  }
  const { cmd, rest } = findCommand(argv);
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`usage: scd ${cmd.name} ${cmd.usage}\n\n${cmd.summary}\n\n${flagHelp(cmd.flags)}\n`);
    return 0;
  }
  const { positional, flags } = parseArgs(rest, cmd.flags, cmd.name);
  if (positional.length < (cmd.minPositional ?? 0)) throw new ScdError(`"scd ${cmd.name}" needs ${cmd.minPositional} argument(s): scd ${cmd.name} ${cmd.usage}`);
  await cmd.run(positional, flags);
  return 0;
}

const isEntry = process.argv[1] && /(scd(\.js)?|main\.ts)$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof ScdError) {
        process.stderr.write(`scd: error: ${e.message}\n`);
        process.exit(e.exitCode);
      }
      const err = e as Error;
      process.stderr.write(`scd: internal error: ${err?.message ?? String(e)}${process.env.SCD_DEBUG ? `\n${err?.stack}` : " (set SCD_DEBUG=1 for the stack trace)"}\n`);
      process.exit(1);
    },
  );
}
