/**
 * What test/docs.test.ts checks the documentation with: the fenced code blocks of README.md and docs/*.md, a
 * checker for the commands in ```sh blocks (`scd` lines against the CLI's own command registry and flag specs,
 * npm scripts against package.json, scripts against the files), the relative links, and the command reference's
 * synopsis. Pure functions over text; the test runs them and tsc / tsx / TypeDoc.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { COMMANDS } from "../src/cli/commands/index.ts";
import type { Command } from "../src/cli/command.ts";
import { parseArgs } from "../src/cli/args.ts";
import { ROOT } from "./helpers.ts";

/** README.md and every guide in docs/ (not the generated API reference), as paths relative to the root. */
export function docFiles(): string[] {
  const guides = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort();
  return ["README.md", ...guides.map((f) => `docs/${f}`)];
}

/** One fenced block: where it starts (the line after the opening fence, 1-based), its language and its text. */
export interface Block {
  file: string;
  line: number;
  lang: string;
  body: string;
}

/** The fenced blocks of a Markdown text; an unclosed fence is an error. */
export function extractBlocks(file: string, text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let open: { line: number; lang: string; body: string[] } | undefined;
  lines.forEach((l, i) => {
    const fence = /^```(.*)$/.exec(l);
    if (!open) {
      if (fence) open = { line: i + 2, lang: fence[1].trim(), body: [] };
    } else if (l === "```") {
      blocks.push({ file, line: open.line, lang: open.lang, body: open.body.join("\n") + "\n" });
      open = undefined;
    } else open.body.push(l);
  });
  if (open) throw new Error(`${file}:${open.line - 1}: a fenced block is not closed`);
  return blocks;
}

/** Markdown outside fenced blocks and inline code spans (where links are links). */
export function prose(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's heading anchors: lower case, punctuation other than "-" and "_" dropped, spaces → "-". */
export function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, "").replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "").replace(/ /g, "-");
}

/** The anchors of a Markdown file's headings (outside fenced blocks), duplicates numbered as GitHub does. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "").matchAll(/^#{1,6} (.+)$/gm)) {
    const s = slug(m[1]);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n ? `${s}-${n}` : s);
  }
  return out;
}

/** Relative links and images whose file or heading anchor does not exist, as "file: target — why". */
export function brokenLinks(file: string, text: string): string[] {
  const bad: string[] = [];
  for (const m of prose(text).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
    const target = m[1];
    if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
    const [p, anchor] = target.split("#");
    const abs = p ? path.resolve(path.dirname(path.join(ROOT, file)), p) : path.join(ROOT, file);
    if (!fs.existsSync(abs)) {
      bad.push(`${file}: ${target} — no such file`);
      continue;
    }
    if (anchor !== undefined && abs.endsWith(".md") && !anchors(fs.readFileSync(abs, "utf8")).has(anchor))
      bad.push(`${file}: ${target} — no heading with that anchor in ${path.relative(ROOT, abs)}`);
  }
  return bad;
}

/** One command of a shell block: its line in the file and its words (quotes removed). */
export interface ShellCommand {
  line: number;
  argv: string[];
}

/**
 * The commands of a ```sh block: continuation lines joined, comments dropped, words split as the shell does for
 * plain and quoted words, and `&&`, `||`, `;` and `|` separating commands.
 */
export function shellCommands(block: Block): ShellCommand[] {
  const cmds: ShellCommand[] = [];
  const lines = block.body.replace(/\n$/, "").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = block.line + i;
    let text = lines[i];
    while (text.endsWith("\\") && i + 1 < lines.length) text = text.slice(0, -1) + " " + lines[++i];
    let argv: string[] = [];
    const words = /\s*(?:(&&|\|\||[;|])|#.*$|((?:"[^"]*"|'[^']*'|[^\s"';|&]+)+))/gy;
    for (let m = words.exec(text); m && m[0] !== ""; m = words.exec(text)) {
      if (m[1]) {
        if (argv.length) cmds.push({ line: start, argv });
        argv = [];
      } else if (m[2]) argv.push(m[2].replace(/"([^"]*)"|'([^']*)'/g, "$1$2"));
    }
    if (argv.length) cmds.push({ line: start, argv });
  }
  return cmds;
}

/** The command a `scd …` argument list names (two words before one, as the CLI looks them up), and the rest. */
export function findCommand(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const cmd = COMMANDS.find((c) => c.name === argv.slice(0, words).join(" "));
    if (cmd) return { cmd, rest: argv.slice(words) };
  }
  return undefined;
}

/** Why `scd <args>` would not parse (unknown command or flag, bad flag value, missing argument), or undefined. */
export function scdProblem(args: string[]): string | undefined {
  if (!args.length || args[0] === "--help") return undefined;
  const found = findCommand(args);
  if (!found) return `unknown command "scd ${args.slice(0, 2).join(" ")}"`;
  const { cmd, rest } = found;
  if (rest.includes("--help")) return undefined;
  try {
    const { positional } = parseArgs(rest, cmd.flags, cmd.name);
    if (positional.length < (cmd.minPositional ?? 0)) return `"scd ${cmd.name}" needs ${cmd.minPositional} argument(s), got ${positional.length}`;
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
const NPM_OK = new Set(["install", "ci", "pack"]);

/**
 * Why a documented shell command is not one the tests can vouch for, or undefined. Accepted: `scd …` and
 * `npx scd …` that parse; `npm start|test|run <script>` naming a script of package.json; `npm install|ci|pack`;
 * `npx tsx <file>`, `bash <file>` and `./path/to/script` naming a file of the checkout. Leading `NAME=value`
 * assignments are skipped. Anything else is refused, so a guide cannot show a command nothing checks.
 */
export function commandProblem(argv0: string[]): string | undefined {
  const argv = argv0.slice(argv0.findIndex((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w)));
  const [head, ...rest] = argv;
  const exists = (f: string | undefined) => (f && fs.existsSync(path.join(ROOT, f)) ? undefined : `no file ${f ?? "(none)"} in the checkout`);
  if (head === "scd") return scdProblem(rest);
  if (head === "npx" && rest[0] === "scd") return scdProblem(rest.slice(1));
  if (head === "npx" && rest[0] === "tsx") return exists(rest[1]);
  if (head === "bash") return exists(rest[0]);
  if (head === "npm") {
    const args = rest.filter((w) => w !== "-s" && w !== "--silent");
    if (NPM_OK.has(args[0])) return undefined;
    const script = args[0] === "run" ? args[1] : args[0];
    return script && pkg.scripts[script] ? undefined : `npm script "${script}" is not in package.json`;
  }
  if (head?.includes("/")) return exists(head);
  return `"${head}" is not a command the tests check (scd, npm scripts, npx tsx / bash on a file of the checkout)`;
}

/**
 * What is wrong with a command synopsis (docs/cli.md): each entry (`scd …` plus its indented continuation lines,
 * alternatives split on " | " outside brackets, the description after two spaces dropped) must name a command,
 * and its `--flags` must be that command's; every command must appear.
 */
export function synopsisProblems(body: string): string[] {
  const problems: string[] = [];
  const entries: string[] = [];
  for (const l of body.split("\n")) {
    if (l.startsWith("scd ")) entries.push(l.split(/ {2,}/)[0]);
    else if (l.trim() && entries.length) entries[entries.length - 1] += " " + l.trim().split(/ {2,}/)[0];
  }
  const named = new Set<string>();
  for (const entry of entries) {
    const alternatives: string[] = [];
    let depth = 0, cur = "";
    for (let i = 0; i < entry.length; i++) {
      const c = entry[i];
      if (c === "[" || c === "<") depth++;
      if (c === "]" || c === ">") depth--;
      if (depth === 0 && entry.startsWith(" | ", i)) {
        alternatives.push(cur);
        cur = "";
        i += 2;
      } else cur += c;
    }
    alternatives.push(cur);
    for (const alt of alternatives) {
      const words = alt.replace(/^scd /, "").trim().split(/\s+/);
      const found = findCommand(words);
      if (!found) {
        problems.push(`"${alt.trim()}": no such command`);
        continue;
      }
      named.add(found.cmd.name);
      for (const m of alt.matchAll(/--([a-z][a-z0-9-]*)/g))
        if (!(m[1] in found.cmd.flags)) problems.push(`"scd ${found.cmd.name}" has no flag --${m[1]}`);
    }
  }
  for (const c of COMMANDS) if (!named.has(c.name)) problems.push(`"scd ${c.name}" is missing`);
  return problems;
}
