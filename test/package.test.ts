/**
 * The package as a user gets it: `npm pack` (its prepack builds dist/), the tarball installed into an empty
 * project from the npm registry (or the local npm cache), then used the four ways users use it — plain `node`
 * importing the library, the `scd` command, a TypeScript project (node16 and bundler resolution) type-checking
 * against the shipped .d.ts, and esbuild bundling `scd-policy/web` for the browser. publint and
 * @arethetypeswrong/cli check the package metadata. Slow (pack + install + two tsc runs): one pack for every test.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { ROOT } from "./helpers.ts";

const require = createRequire(import.meta.url);
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "scd-package-"));
const APP = path.join(TMP, "app");
const PKG = path.join(APP, "node_modules/scd-policy");
const pkgJson = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const TARBALL = path.join(TMP, `${pkgJson.name}-${pkgJson.version}.tgz`);
const BIN = path.join(ROOT, "node_modules/.bin");

/**
 * Children see neither tsx's loader nor the checkout's npm settings: what runs must run as it would for a user.
 * ONNXRUNTIME_NODE_INSTALL=skip only matters if onnxruntime-node were pulled in — it must not be (checked below).
 */
function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, SCD_QUIET: "1", ONNXRUNTIME_NODE_INSTALL: "skip" };
  // FORCE_COLOR (set by the test runner) would make console.log colour a printed number
  for (const k of Object.keys(e)) if (k === "NODE_OPTIONS" || k === "FORCE_COLOR" || k.startsWith("npm_")) delete e[k];
  return e;
}
function run(cmd: string, args: string[], cwd: string, timeout = 600_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: env(), encoding: "utf8", timeout, maxBuffer: 64 << 20 });
}
const ok = (r: SpawnSyncReturns<string>, what: string) => assert.is(r.status, 0, `${what} exited ${r.status}: ${r.stderr}\n${r.stdout}`.slice(0, 4000));

interface PackFile { path: string; size: number }
let packed: { size: number; unpackedSize: number; files: PackFile[] };

test("npm pack builds dist/ and ships the build, the shipped checkpoint and demonstrations — no sources, scripts or tests", () => {
  const r = run("npm", ["pack", "--json", "--pack-destination", TMP], ROOT);
  ok(r, "npm pack");
  // prepack's build log comes first on stdout; npm's JSON report is the rest
  packed = JSON.parse(r.stdout.slice(r.stdout.search(/^\[/m)))[0];
  assert.ok(fs.existsSync(TARBALL), TARBALL);
  const files = packed.files.map((f) => f.path);
  for (const f of ["bin/scd.js", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/index.js.map", "dist/src/cli/main.js", "dist/src/envs/index.js", "dist/src/web/index.d.ts", "dist/src/ros/index.js", "dist/src/policies/onnx.js", "dist/apps/web/serve.js", "assets/checkpoints/scd-pusht/weights.msgpack", "assets/checkpoints/scd-pusht/checkpoint.json", "assets/checkpoints/arm-push/weights.msgpack", "assets/datasets/pusht/pusht_human.scdd", "assets/datasets/pusht/README.md", "CHANGELOG.md", "README.md", "package.json", "docs/training.md", "docs/robustness.md"]) assert.ok(files.includes(f), `${f} is in the tarball`);
  const stray = files.filter((f) => (/\.ts$/.test(f) && !f.endsWith(".d.ts")) || /^(src|scripts|test|bench|examples|web|apps|experiments|results|runs|dist\/web)\//.test(f));
  assert.equal(stray, [], "no TypeScript sources, experiment scripts, tests, results or the demo site");
  const bySize = (re: RegExp) => packed.files.filter((f) => re.test(f.path)).reduce((s, f) => s + f.size, 0);
  const assets = bySize(/^assets\//), code = bySize(/^(dist|bin)\//);
  // the tarball is the checkpoints' float32 weights (10.8 + 1.6 MB, barely compressible) + the demonstrations + the build
  assert.ok(packed.size < 14.5e6, `tarball ${packed.size} bytes`);
  assert.ok(code < 3.5e6, `code, types and maps ${code} bytes`);
  console.log(`  tarball ${(packed.size / 1e6).toFixed(2)} MB (${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${files.length} files): assets ${(assets / 1e6).toFixed(2)} MB, dist/ + bin ${(code / 1e6).toFixed(2)} MB`);
});

test("the shipped files import only shipped files (.js specifiers, no .ts)", () => {
  const shipped = new Set(packed.files.map((f) => f.path));
  const bad: string[] = [];
  for (const f of shipped) {
    if (!/^dist\/.*\.(js|d\.ts)$/.test(f)) continue;
    const text = fs.readFileSync(path.join(ROOT, f), "utf8");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(f), m[1]));
      const asTypes = target.replace(/\.js$/, ".d.ts");
      if (!shipped.has(f.endsWith(".d.ts") ? asTypes : target)) bad.push(`${f} → ${m[1]}`);
    }
  }
  assert.equal(bad.slice(0, 10), [], "unresolvable relative imports in dist/");
});

test("publint (strict) and @arethetypeswrong/cli pass", () => {
  fs.mkdirSync(path.join(TMP, "extracted"));
  ok(run("tar", ["xzf", TARBALL, "-C", path.join(TMP, "extracted")], TMP), "tar");
  const pl = run(path.join(BIN, "publint"), [path.join(TMP, "extracted/package"), "--pack", "false", "--strict"], TMP);
  ok(pl, "publint");
  assert.not.match(pl.stdout, /Errors|Warnings/);
  // ESM only, on purpose (Node ≥ 20.16): CommonJS `require` and pre-exports node10 resolution are out of scope
  const at = run(path.join(BIN, "attw"), [TARBALL, "--profile", "esm-only", "--format", "json"], TMP);
  ok(at, "attw");
  const { analysis } = JSON.parse(at.stdout) as { analysis: { entrypoints: Record<string, unknown>; problems: { kind: string; entrypoint: string; resolutionKind?: string }[] } };
  assert.equal(Object.keys(analysis.entrypoints), Object.keys(pkgJson.exports), "attw analysed every entry point");
  const real = analysis.problems.filter((p) => p.resolutionKind !== "node10" && p.resolutionKind !== "node16-cjs");
  assert.equal(real, [], "no type or resolution problem for ESM under node16 or bundler");
});

test("the tarball installs into an empty project from the registry alone, without the optional and dev parts", () => {
  fs.mkdirSync(APP);
  fs.writeFileSync(path.join(APP, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
  const typesNode = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/@types/node/package.json"), "utf8")).version;
  const r = run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", TARBALL, `@types/node@${typesNode}`], APP);
  ok(r, "npm install of the tarball");
  assert.ok(fs.existsSync(path.join(PKG, "dist/src/index.js")));
  for (const absent of ["onnxruntime-node", "onnxruntime-web", "playwright-core", "tsx", "esbuild", "typescript", "@tensorflow/tfjs-node"]) assert.not.ok(fs.existsSync(path.join(APP, "node_modules", absent)), `${absent} is not installed`);
});

let shipped = "";
test("(a) plain node imports scd-policy and scd-policy/envs and evaluates the scripted expert through the public API", () => {
  fs.writeFileSync(path.join(APP, "eval-expert.mjs"), `
import { initBackend, makeEnv, envIds, evaluate, builtinPolicy, SHIPPED_PUSHT } from "scd-policy";
import "scd-policy/envs";
const backend = await initBackend();
const probe = await makeEnv("reach-obstacle-v1");
const report = await evaluate({
  makeEnv: () => makeEnv("reach-obstacle-v1"),
  makePolicy: () => builtinPolicy("expert", "reach-obstacle-v1", probe.actionSpace),
  episodes: 3, seedStart: 100000, loop: { strategy: { kind: "receding", execute: 1 }, latencyMs: 0 },
});
console.log(JSON.stringify({ resolved: import.meta.resolve("scd-policy"), backend: backend.backend, envs: envIds(), shipped: SHIPPED_PUSHT, report: report.aggregated }));
`);
  const r = run(process.execPath, ["eval-expert.mjs"], APP);
  ok(r, "node eval-expert.mjs");
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.is(out.resolved, `file://${fs.realpathSync(PKG)}/dist/src/index.js`);
  assert.equal(out.envs, ["arm-push-v1", "pusht-image-v1", "pusht-v1", "reach-obstacle-v1"]);
  assert.is(out.report.n_episodes, 3);
  assert.is(out.report.pc_success, 100, "the scripted expert reaches the goal in every episode");
  assert.is(fs.realpathSync(out.shipped), fs.realpathSync(path.join(PKG, "assets/checkpoints/scd-pusht")), "SHIPPED_PUSHT points into the installed package");
  shipped = out.shipped;
});

test("(a) the README's library example runs as written in the installed package", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const install = readme.slice(readme.indexOf("## Install"), readme.indexOf("\n## ", readme.indexOf("## Install") + 1));
  const block = /```ts\n([\s\S]*?)```/.exec(install)?.[1];
  assert.ok(block?.includes('from "scd-policy"'), "the Install section has a TypeScript example importing scd-policy");
  // TypeScript only in name: the example is plain ESM, so node runs it unchanged as .mjs
  fs.writeFileSync(path.join(APP, "readme-example.mjs"), block!);
  const r = run(process.execPath, ["readme-example.mjs"], APP);
  ok(r, "node readme-example.mjs");
  const score = Number(r.stdout.trim().split("\n").pop());
  assert.ok(score > 0.5 && score <= 1, `the shipped checkpoint's mean score: ${r.stdout}`);
});

test("(b) npx scd --help and scd eval of the shipped checkpoint run from the installed package", () => {
  const help = run("npx", ["--no-install", "scd", "--help"], APP);
  ok(help, "npx scd --help");
  for (const c of ["eval", "train", "export", "dataset inspect"]) assert.match(help.stdout, new RegExp(`^  ${c} `, "m"));
  const r = run("npx", ["--no-install", "scd", "eval", "--policy", shipped, "--env", "pusht-v1", "--episodes", "2", "--seed-start", "100000", "--latency", "0", "--json", "-"], APP);
  ok(r, "scd eval");
  const rep = JSON.parse(r.stdout);
  assert.is(rep.aggregated.n_episodes, 2);
  assert.equal(rep.per_episode.map((e: { seed: number }) => e.seed), [100000, 100001]);
  assert.ok(rep.aggregated.avg_max_reward > 0.5, `the shipped policy pushes the block: mean score ${rep.aggregated.avg_max_reward}`);
  const info = run("npx", ["--no-install", "scd", "info", "--json"], APP);
  ok(info, "scd info");
  assert.is(JSON.parse(info.stdout).package, pkgJson.version, "scd info reports the installed version");
  // the training default dataset resolves inside the installed package too
  const ds = run("npx", ["--no-install", "scd", "dataset", "inspect", path.join(PKG, "assets/datasets/pusht/pusht_human.scdd"), "--json"], APP);
  ok(ds, "scd dataset inspect");
  assert.is(JSON.parse(ds.stdout).episodes, 206);
});

test("running an ONNX export without the optional onnxruntime-node is one scd: error: line naming what to install", () => {
  const ex = run("npx", ["--no-install", "scd", "export", shipped, "--format", "onnx", "--out", "onnx-export"], APP);
  ok(ex, "scd export (needs no ONNX Runtime)");
  const r = run("npx", ["--no-install", "scd", "eval", "--policy", "onnx-export", "--env", "pusht-v1", "--episodes", "1", "--latency", "0"], APP);
  assert.is(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split("\n").filter((l) => !/^npm (warn|notice)/.test(l));
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], /^scd: error: running an ONNX export needs onnxruntime-node 1\.30\.0 .*npm install onnxruntime-node@1\.30\.0/);
});

/** tsc over `example.ts` with the consumer's settings; diagnostics outside third-party packages' own .d.ts. */
function typecheck(name: string, module: string, moduleResolution: string): Promise<{ ours: string[]; files: string[] }> {
  fs.writeFileSync(path.join(APP, `tsconfig.${name}.json`), JSON.stringify({
    // skipLibCheck off, so errors inside our .d.ts count; tfjs's own .d.ts have errors of their own, filtered below
    compilerOptions: { target: "ES2022", module, moduleResolution, strict: true, noEmit: true, skipLibCheck: false, types: ["node"], lib: ["ES2022", "DOM"] },
    files: ["example.ts"],
  }));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", `tsconfig.${name}.json`, "--pretty", "false", "--listFiles"], { cwd: APP, env: env() });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("close", () => {
      const lines = out.split("\n");
      const diags = lines.filter((l) => /\(\d+,\d+\): error TS/.test(l));
      const thirdParty = (l: string) => /^node_modules\//.test(l) && !l.startsWith("node_modules/scd-policy/");
      resolve({ ours: diags.filter((l) => !thirdParty(l)), files: lines.filter((l) => l.startsWith("/")) });
    });
  });
}

test("(c) TypeScript consumers with moduleResolution node16 and bundler type-check against the shipped .d.ts", async () => {
  fs.writeFileSync(path.join(APP, "example.ts"), `
import { initBackend, makeEnv, evaluate, builtinPolicy, loadPolicy, SHIPPED_PUSHT, ScdError, type EvalReport, type ChunkPolicy } from "scd-policy";
import "scd-policy/envs";
import "scd-policy/policies/onnx";
import { LiveEnv, LiveRun } from "scd-policy/web";
import { parseTopicMap } from "scd-policy/ros";

const backend: string = (await initBackend()).backend;
const env = await makeEnv("reach-obstacle-v1");
const policy: ChunkPolicy = await builtinPolicy("expert", "reach-obstacle-v1", env.actionSpace);
const report: EvalReport = await evaluate({ makeEnv: () => makeEnv("reach-obstacle-v1"), makePolicy: async () => policy, episodes: 1, seedStart: 0, loop: { strategy: { kind: "receding", execute: 1 } } });
const score: number = report.aggregated.avg_max_reward;
const live = new LiveRun(new LiveEnv(env), await loadPolicy(SHIPPED_PUSHT), { strategy: { kind: "receding", execute: 8 }, seed: 0, maxSteps: 10 });
// @ts-expect-error -- the .d.ts carry real types (not any): a string where a number goes is an error
await evaluate({ makeEnv: () => makeEnv("pusht-v1"), makePolicy: async () => policy, episodes: "two", seedStart: 0, loop: {} });
console.log(backend, score, live.running, parseTopicMap, ScdError);
`);
  const [n16, bundler] = await Promise.all([typecheck("node16", "node16", "node16"), typecheck("bundler", "preserve", "bundler")]);
  for (const [name, r] of [["node16", n16], ["bundler", bundler]] as const) {
    assert.equal(r.ours, [], `${name}: no error in example.ts or in scd-policy's .d.ts`);
    const ours = r.files.filter((f) => f.includes("/node_modules/scd-policy/"));
    assert.ok(ours.some((f) => f.endsWith("/dist/src/index.d.ts")) && ours.some((f) => f.endsWith("/dist/src/web/index.d.ts")), `${name}: resolved to the shipped .d.ts`);
    assert.equal(ours.filter((f) => !f.endsWith(".d.ts")), [], `${name}: no TypeScript source of the package is compiled`);
  }
});

test("(d) esbuild bundles scd-policy/web (with the envs and policies) for the browser", async () => {
  const esbuild = await import("esbuild");
  fs.writeFileSync(path.join(APP, "page.ts"), `
import "scd-policy/envs";
import "scd-policy/policies";
import { makeEnv, LiveEnv, LiveRun, useTfjsBackend, loadWebCheckpoint } from "scd-policy/web";
await useTfjsBackend("wasm", new URL("tfjs/", location.href).href);
const ckpt = await loadWebCheckpoint(new URL("checkpoints/pusht-scd/", location.href).href);
const env = new LiveEnv(await makeEnv("pusht-v1", {}, { timeLimit: false }));
new LiveRun(env, ckpt.policy(), { strategy: { kind: "receding", execute: 8 }, seed: 100000, maxSteps: 300 }).start();
`);
  // no alias or plugin: the package's "browser" field swaps @napi-rs/canvas for its OffscreenCanvas shim
  const r = await esbuild.build({ absWorkingDir: APP, entryPoints: ["page.ts"], bundle: true, splitting: true, format: "esm", platform: "browser", target: "es2022", outdir: "out", metafile: true, logLevel: "silent", define: { "process.env.NODE_ENV": '"production"' } });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.includes("node_modules/scd-policy/dist/src/web/index.js"));
  assert.ok(inputs.includes("node_modules/scd-policy/dist/src/web/canvas.js"), "the canvas shim replaces the native addon");
  assert.equal(inputs.filter((f) => /@napi-rs|onnxruntime-node|tfjs-node|^node:|\.node$/.test(f)), [], "no Node-only module in the bundle");
  assert.ok(inputs.some((f) => f.startsWith("node_modules/scd-policy/dist/src/envs/pusht/")), "the lazily loaded Push-T env is bundled (as a chunk)");
  assert.ok(fs.statSync(path.join(APP, "out/page.js")).size > 100_000);
});

test.after(() => fs.rmSync(TMP, { recursive: true, force: true }));
test.run();
