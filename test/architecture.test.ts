/**
 * The layers, read from the code's own imports (static, re-exports, dynamic and type-only, through the
 * TypeScript compiler's import scanner). The rules are written once, here; docs/architecture.md's "Architecture"
 * section states them in prose.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { ROOT } from "./helpers.ts";

/** The package's entry points: they may register built-ins and reach every layer (and the page's server in apps/). */
const ENTRY = /^src\/(cli\/|index\.ts$)/;
/** The files that register a concept's built-ins, one line each: the only core files that import them. */
const REGISTRATIONS = new Set(["src/policies/index.ts", "src/policies/onnx.ts", "src/envs/index.ts", "src/datasets/index.ts"]);
/** A built-in: one folder inside a concept's folder (src/policies/scd/, src/envs/pusht/, src/datasets/lerobot/). */
const BUILTIN = /^src\/(policies|envs|datasets)\/([^/]+)\//;
const CONCEPT: Record<string, string> = { policies: "a policy", envs: "an env", datasets: "a dataset format" };

/** The core's layers, lowest first: a module imports its own layer and the ones below it, never one above. */
export const LAYERS: { name: string; paths: string[] }[] = [
  { name: "foundations", paths: ["src/util/", "src/errors.ts", "src/assets.ts", "src/spaces.ts", "src/backend/", "src/nn/", "src/diffusion/", "src/types/"] },
  { name: "datasets", paths: ["src/datasets/"] },
  { name: "envs", paths: ["src/envs/"] },
  { name: "policies", paths: ["src/policies/"] },
  { name: "checkpoints and deploy", paths: ["src/checkpoints/", "src/deploy/"] },
  { name: "loop, eval, train, sweeps, ROS, browser API", paths: ["src/loop/", "src/eval/", "src/train/", "src/sweep/", "src/ros/", "src/web/"] },
];
const layerOf = (f: string): number => LAYERS.findIndex((l) => l.paths.some((p) => (p.endsWith("/") ? f.startsWith(p) : f === p)));
/** Built-ins sit between the concepts and what runs them: they may use checkpoints and deploy (their exporters), not the loop. */
const BUILTIN_LAYER = 4;
const ROS_CLIENT = (t: string) => t === "roslib" || t.startsWith("@foxglove/ros1");
const OUTSIDE = /^(examples|bench|test|apps|experiments)\//;

/** Import targets of one file: repo-relative paths for relative specifiers, package names otherwise. */
export function importsOf(file: string, text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName: s }) => {
    if (!s.startsWith(".")) return s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0];
    return path.posix.normalize(path.posix.join(path.posix.dirname(file), s));
  });
}

/** One message per broken rule: "<file> imports <target>: <why>". */
export function violations(files: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    if (!file.startsWith("src/") || ENTRY.test(file)) continue;
    const own = BUILTIN.exec(file);
    const from = own || REGISTRATIONS.has(file) ? BUILTIN_LAYER : layerOf(file);
    for (const target of importsOf(file, text)) {
      const bad = (why: string) => out.push(`${file} imports ${target}: ${why}`);
      if (target.startsWith("src/cli/") || target === "src/index.ts") bad("the core must not import an entry point");
      else if (OUTSIDE.test(target)) bad("the core must not import examples, bench, tests, apps or experiments");
      else if (ROS_CLIENT(target) && !file.startsWith("src/ros/")) bad("only src/ros/ may import a ROS client library");
      else if (target.startsWith("src/")) {
        const b = BUILTIN.exec(target);
        if (b && !(own && own[0] === b[0]) && !REGISTRATIONS.has(file))
          bad(own ? `${CONCEPT[own[1]]} must not import ${CONCEPT[b[1]]} (built-ins meet only through the registries)` : `only ${b[1] === "policies" ? "src/policies/index.ts and onnx.ts" : `src/${b[1]}/index.ts`} may import ${CONCEPT[b[1]]}; the core goes through the registry`);
        else if (!b) {
          const to = layerOf(target);
          if (to > from) bad(`${own ? `${CONCEPT[own[1]]} (built-in)` : LAYERS[from]?.name ?? "?"} must not import ${LAYERS[to].name}, a layer above it`);
        }
      }
    }
  }
  return out;
}

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.ts$/.test(f) && !f.endsWith(".d.ts"))
    .map((f) => path.posix.join(dir, f.split(path.sep).join("/")));
}

const FILES = Object.fromEntries(["src"].flatMap(sources).map((f) => [f, fs.readFileSync(path.join(ROOT, f), "utf8")]));

test("the package's own import graph keeps every layer rule", () => {
  assert.ok(Object.keys(FILES).length > 60, `scanned ${Object.keys(FILES).length} files`);
  const v = violations(FILES);
  assert.equal(v, [], `layer violations:\n  ${v.join("\n  ")}`);
});

test("every core file has a layer", () => {
  const none = Object.keys(FILES).filter((f) => !ENTRY.test(f) && !BUILTIN.test(f) && layerOf(f) < 0);
  assert.equal(none, [], `files outside every layer: ${none.join(", ")}`);
});

test("the scanner sees every import form, and the rules name the offending import", () => {
  const v = violations({
    "src/envs/registry.ts": `import { nearest } from "../cli/args.ts";`,
    "src/datasets/load.ts": `const z = await import("./dp-zarr/zarr.ts");`,
    "src/train/train.ts": `import "../policies/index.ts";`, // allowed: the registry's own registration file
    "src/train/session.ts": `export * from "../policies/scd/model.ts";`,
    "src/ros/sim-robot.ts": `import type { ReachObstacleEnv } from "../envs/reach-obstacle/reach.ts";`,
    "src/loop/loop.ts": `import { Ros } from "roslib";`,
    "src/ros/connector.ts": `import { Ros } from "roslib";`, // allowed: the ROS layer
    "src/cli/main.ts": `import "../policies/scd/index.ts";`, // allowed: an entry point
    "src/policies/scd/model.ts": `import { PushTEnv } from "../../envs/pusht/pusht.ts";`,
    "src/policies/scd/onnx.ts": `import { registerExporter } from "../../deploy/runtime.ts";`, // allowed: built-ins may use deploy
    "src/policies/mlp-bc/model.ts": `import { controlLoop } from "../../loop/loop.ts";`,
    "src/datasets/formats.ts": `import type { Strategy } from "../loop/loop.ts";`,
    "src/envs/types.ts": `import type { ChunkPolicy } from "../policies/types.ts";`,
    "src/util/x.ts": `import "../../apps/web/serve.ts";`,
  });
  assert.equal(v, [
    "src/envs/registry.ts imports src/cli/args.ts: the core must not import an entry point",
    "src/datasets/load.ts imports src/datasets/dp-zarr/zarr.ts: only src/datasets/index.ts may import a dataset format; the core goes through the registry",
    "src/train/session.ts imports src/policies/scd/model.ts: only src/policies/index.ts and onnx.ts may import a policy; the core goes through the registry",
    "src/ros/sim-robot.ts imports src/envs/reach-obstacle/reach.ts: only src/envs/index.ts may import an env; the core goes through the registry",
    "src/loop/loop.ts imports roslib: only src/ros/ may import a ROS client library",
    "src/policies/scd/model.ts imports src/envs/pusht/pusht.ts: a policy must not import an env (built-ins meet only through the registries)",
    "src/policies/mlp-bc/model.ts imports src/loop/loop.ts: a policy (built-in) must not import loop, eval, train, sweeps, ROS, browser API, a layer above it",
    "src/datasets/formats.ts imports src/loop/loop.ts: datasets must not import loop, eval, train, sweeps, ROS, browser API, a layer above it",
    "src/envs/types.ts imports src/policies/types.ts: envs must not import policies, a layer above it",
    "src/util/x.ts imports apps/web/serve.ts: the core must not import examples, bench, tests, apps or experiments",
  ]);
});

test.run();
