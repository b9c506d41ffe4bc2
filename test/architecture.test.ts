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

/** The package's entry points: they may register built-ins and reach every layer. */
const ENTRY = /^src\/(cli\/|index\.ts$)/;
const CORE = (f: string) => f.startsWith("src/") && !ENTRY.test(f);

const CLI = { what: "the CLI", match: (t: string) => t.startsWith("src/cli/") };
const POLICY = { what: "a policy", match: (t: string) => t.startsWith("policies/") };
const ENV = { what: "an env", match: (t: string) => t.startsWith("envs/") };
const DATASET = { what: "a dataset format", match: (t: string) => t.startsWith("datasets/") };
const OUTSIDE = { what: "examples, bench or tests", match: (t: string) => /^(examples|bench|test)\//.test(t) };
const ROS_CLIENT = { what: "a ROS client library", match: (t: string) => t === "roslib" || t.startsWith("@foxglove/ros1") };

/** Who may not import what. `t` is a repo-relative path for relative imports, else the bare package name. */
const RULES: { layer: string; applies: (f: string) => boolean; forbid: { what: string; match: (t: string) => boolean }[] }[] = [
  { layer: "the core (src/)", applies: CORE, forbid: [CLI, POLICY, ENV, DATASET, OUTSIDE] },
  { layer: "the core outside src/ros/", applies: (f) => CORE(f) && !f.startsWith("src/ros/"), forbid: [ROS_CLIENT] },
  { layer: "a policy", applies: (f) => f.startsWith("policies/"), forbid: [CLI, ENV, DATASET, OUTSIDE, ROS_CLIENT] },
  { layer: "an env", applies: (f) => f.startsWith("envs/"), forbid: [CLI, POLICY, DATASET, OUTSIDE, ROS_CLIENT] },
  { layer: "a dataset format", applies: (f) => f.startsWith("datasets/"), forbid: [CLI, POLICY, ENV, OUTSIDE, ROS_CLIENT] },
];

/** Import targets of one file: repo-relative paths for relative specifiers, package names otherwise. */
export function importsOf(file: string, text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName: s }) => {
    if (!s.startsWith(".")) return s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0];
    return path.posix.normalize(path.posix.join(path.posix.dirname(file), s));
  });
}

/** One message per broken rule: "<file> imports <target>: <layer> must not import <what>". */
export function violations(files: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of Object.entries(files))
    for (const target of importsOf(file, text))
      for (const rule of RULES) {
        if (!rule.applies(file)) continue;
        const bad = rule.forbid.find((f) => f.match(target));
        if (bad) out.push(`${file} imports ${target}: ${rule.layer} must not import ${bad.what}`);
      }
  return out;
}

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.ts$/.test(f) && !f.endsWith(".d.ts"))
    .map((f) => path.posix.join(dir, f.split(path.sep).join("/")));
}

const FILES = Object.fromEntries(["src", "policies", "envs", "datasets"].flatMap(sources).map((f) => [f, fs.readFileSync(path.join(ROOT, f), "utf8")]));

test("the package's own import graph keeps every layer rule", () => {
  assert.ok(Object.keys(FILES).length > 60, `scanned ${Object.keys(FILES).length} files`);
  const v = violations(FILES);
  assert.equal(v, [], `layer violations:\n  ${v.join("\n  ")}`);
});

test("the scanner sees every import form, and the rules name the offending import", () => {
  const v = violations({
    "src/env/registry.ts": `import { nearest } from "../cli/args.ts";`,
    "src/data/load.ts": `const z = await import("../../datasets/dp-zarr/zarr.ts");`,
    "src/train/train.ts": `import "../../policies/index.ts";`,
    "src/policy/x.ts": `export * from "../../policies/scd/model.ts";`,
    "src/ros/sim-robot.ts": `import type { ReachObstacleEnv } from "../../envs/reach-obstacle/reach.ts";`,
    "src/loop/loop.ts": `import { Ros } from "roslib";`,
    "src/ros/connector.ts": `import { Ros } from "roslib";`, // allowed: the ROS layer
    "src/cli/main.ts": `import "../../policies/index.ts";`, // allowed: an entry point
    "policies/scd/model.ts": `import { PushTEnv } from "../../envs/pusht/pusht.ts";`,
  });
  assert.equal(v, [
    "src/env/registry.ts imports src/cli/args.ts: the core (src/) must not import the CLI",
    "src/data/load.ts imports datasets/dp-zarr/zarr.ts: the core (src/) must not import a dataset format",
    "src/train/train.ts imports policies/index.ts: the core (src/) must not import a policy",
    "src/policy/x.ts imports policies/scd/model.ts: the core (src/) must not import a policy",
    "src/ros/sim-robot.ts imports envs/reach-obstacle/reach.ts: the core (src/) must not import an env",
    "src/loop/loop.ts imports roslib: the core outside src/ros/ must not import a ROS client library",
    "policies/scd/model.ts imports envs/pusht/pusht.ts: a policy must not import an env",
  ]);
});

test.run();
