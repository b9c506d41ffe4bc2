/**
 * The documentation is checked like code. Every fenced block of README.md and docs/*.md is ```ts (type-checked
 * with the project's settings, where `scd-policy` resolves to the sources; the blocks that need no browser also
 * run), ```sh (every command must be one the tests vouch for: `scd` lines parse against the CLI's command
 * registry and flag specs, npm scripts exist, scripts name files of the checkout) or ```text (output samples and
 * synopses, skipped — except the command reference's synopsis, checked against the registry). Relative links
 * and heading anchors must resolve. TypeDoc builds the API reference with warnings as errors. Each checker is
 * first shown a broken input, so a checker that lets everything through fails here too.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { ROOT } from "./helpers.ts";
import { docFiles, extractBlocks, brokenLinks, shellCommands, commandProblem, synopsisProblems, type Block } from "./doc-blocks.ts";

const require = createRequire(import.meta.url);
const blocks: Block[] = docFiles().flatMap((f) => extractBlocks(f, fs.readFileSync(path.join(ROOT, f), "utf8")));
const where = (b: Block, line = b.line) => `${b.file}:${line}`;
// inside the project, so tsconfig's paths and the project's node_modules apply; ".tmp-*" is gitignored
const TMP = fs.mkdtempSync(path.join(ROOT, ".tmp-docs-"));
const OUT = fs.mkdtempSync(path.join(os.tmpdir(), "scd-typedoc-"));
const run = (args: string[], timeout = 300_000) =>
  spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout, maxBuffer: 64 << 20, env: { ...process.env, SCD_QUIET: "1", FORCE_COLOR: "0", NO_COLOR: "1" } });

test("README and guides: every fenced block says what it is (ts, sh or text)", () => {
  assert.ok(blocks.length > 10, `${blocks.length} blocks found`);
  const bad = blocks.filter((b) => !["ts", "sh", "text"].includes(b.lang)).map((b) => `${where(b)}: \`\`\`${b.lang}`);
  assert.equal(bad, [], "a block without a language (or another one): mark output and diagrams ```text");
  for (const f of ["training", "evaluation", "deployment", "real-time", "ros", "browser", "datasets", "architecture", "benchmarks", "robustness", "envs"])
    assert.ok(fs.existsSync(path.join(ROOT, `docs/${f}.md`)), `docs/${f}.md`);
});

test("the shell checker refuses an unknown command, flag, flag value, script or file", () => {
  const broken = ["npx scd evaluate --policy expert", "npx scd eval --polcy expert --env pusht-v1", "scd eval --episodes -3", "scd dataset import only-one", "npm run no-such-script", "npx tsx scripts/no-such.ts", "curl http://example.com"];
  for (const line of broken) {
    const cmds = shellCommands({ file: "test", line: 1, lang: "sh", body: line + "\n" });
    assert.ok(commandProblem(cmds[0].argv), `refused: ${line}`);
  }
  const cmds = shellCommands({ file: "test", line: 1, lang: "sh", body: 'A=1 npx scd eval --policy expert \\\n  --env "reach-obstacle-v1" --json - && npm test   # ok\n' });
  assert.equal(cmds.map((c) => c.argv), [["A=1", "npx", "scd", "eval", "--policy", "expert", "--env", "reach-obstacle-v1", "--json", "-"], ["npm", "test"]]);
  assert.equal(cmds.map((c) => commandProblem(c.argv)), [undefined, undefined]);
});

test("every command in a ```sh block is one the tests check, and every scd line parses", () => {
  const problems: string[] = [];
  let n = 0;
  for (const b of blocks.filter((b) => b.lang === "sh"))
    for (const c of shellCommands(b)) {
      n++;
      const p = commandProblem(c.argv);
      if (p) problems.push(`${where(b, c.line)}: ${c.argv.join(" ")} — ${p}`);
    }
  assert.equal(problems, []);
  assert.ok(n > 20, `${n} commands checked`);
});

test("the command reference's synopsis names every command, with flags that exist", () => {
  assert.ok(synopsisProblems("scd eval --polcy x\nscd no-such\n").length >= 3, "a broken synopsis is refused");
  const cli = blocks.filter((b) => b.file === "docs/cli.md" && b.lang === "text");
  assert.is(cli.length, 1, "docs/cli.md has one synopsis block");
  assert.equal(synopsisProblems(cli[0].body), []);
});

test("relative links and heading anchors in README and guides resolve", () => {
  assert.equal(brokenLinks("README.md", "[x](docs/no-such.md) [y](docs/training.md#no-such-heading)").length, 2, "the link checker refuses broken links");
  const bad = docFiles().flatMap((f) => brokenLinks(f, fs.readFileSync(path.join(ROOT, f), "utf8")));
  assert.equal(bad, []);
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  for (const f of docFiles().slice(1)) assert.ok(readme.includes(`](${f})`), `the README links to ${f}`);
});

test("the browser guide's smallest page is examples/web/minimal.ts (which the Chromium test runs)", () => {
  const page = blocks.find((b) => b.file === "docs/browser.md" && b.lang === "ts");
  const example = fs.readFileSync(path.join(ROOT, "examples/web/minimal.ts"), "utf8").replace(/^\/\*\*[\s\S]*?\*\/\n/, "");
  assert.is(page?.body, example);
});

/** The ts blocks as files: README.md's block at line 31 → README_md_31.ts; a block without import/export becomes a module. */
const tsFiles = blocks
  .filter((b) => b.lang === "ts")
  .map((b) => {
    const file = path.join(TMP, `${b.file.replace(/[/.]/g, "_")}_${b.line}.ts`);
    fs.writeFileSync(file, /^\s*(import|export)\s/m.test(b.body) ? b.body : b.body + "export {};\n");
    return { block: b, file };
  });

test("every ```ts block type-checks with the project's settings (a broken one is caught)", () => {
  assert.ok(tsFiles.length >= 3, `${tsFiles.length} ts blocks`);
  const sentinel = path.join(TMP, "sentinel_broken.ts");
  fs.writeFileSync(sentinel, 'import { evaluate } from "scd-policy";\nawait evaluate({ episodes: "two" });\n');
  fs.writeFileSync(path.join(TMP, "tsconfig.json"), JSON.stringify({ extends: "../tsconfig.json", include: ["../src/types"], files: [...tsFiles.map((t) => path.basename(t.file)), "sentinel_broken.ts"] }));
  const r = run([require.resolve("typescript/bin/tsc"), "-p", path.join(TMP, "tsconfig.json"), "--pretty", "false", "--noEmit"]);
  const diags = r.stdout.split("\n").filter((l) => /\(\d+,\d+\): error TS/.test(l));
  assert.ok(diags.some((d) => d.includes("sentinel_broken.ts")), `tsc reports the deliberately broken block:\n${r.stdout}${r.stderr}`);
  const ours = diags
    .filter((d) => !d.includes("sentinel_broken.ts"))
    .map((d) => {
      const m = /([^/\\]+\.ts)\((\d+),\d+\): (.*)$/.exec(d);
      const t = m && tsFiles.find((t) => path.basename(t.file) === m[1]);
      return t && m ? `${where(t.block, t.block.line + Number(m[2]) - 1)}: ${m[3]}` : d;
    });
  assert.equal(ours, [], "type errors in documented code");
});

test("the ```ts blocks that need no browser run (tsx)", () => {
  const runnable = tsFiles.filter((t) => !/\b(document|location|window)\b/.test(t.block.body));
  assert.ok(runnable.length >= 2, `${runnable.length} runnable blocks`);
  for (const t of runnable) {
    const r = run([require.resolve("tsx/cli"), t.file], 600_000);
    assert.is(r.status, 0, `${where(t.block)} ran: ${r.stderr}\n${r.stdout}`.slice(0, 4000));
  }
});

test("TypeDoc builds the API reference from the public docstrings without a warning", () => {
  // typedoc does not export its bin: find it next to its package.json
  const bin = path.join(path.dirname(require.resolve("typedoc/package.json")), "bin/typedoc");
  const r = run([bin, "--treatWarningsAsErrors", "--out", OUT], 600_000);
  const warnings = (r.stdout + r.stderr).split("\n").filter((l) => /\[(warning|error)\]/.test(l));
  assert.is(r.status, 0, `typedoc exited ${r.status}:\n${warnings.slice(0, 60).join("\n")}\n${r.stderr.slice(0, 2000)}`);
  assert.equal(warnings, []);
  for (const page of ["index.html", "modules.html", "documents/docs_training.html", "functions/scd-policy.evaluate.html", "functions/scd-policy_web.loadWebCheckpoint.html"]) assert.ok(fs.existsSync(path.join(OUT, page)), page);
  const html = fs.readFileSync(path.join(OUT, "modules.html"), "utf8");
  for (const m of ["scd-policy", "scd-policy/web", "scd-policy/ros"]) assert.ok(html.includes(`>${m}<`), `the reference has the module ${m}`);
});

test.after(() => {
  fs.rmSync(TMP, { recursive: true, force: true });
  fs.rmSync(OUT, { recursive: true, force: true });
});
test.run();
