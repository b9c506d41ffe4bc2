#!/usr/bin/env node
/**
 * `npm run build` (and `prepack`, so every `npm pack` / `npm publish` ships a fresh build): compiles the library
 * to dist/ with tsconfig.build.json. Plain Node on purpose: it has to run wherever npm runs lifecycle scripts.
 *
 * Why a script and not bare `tsc`: (1) only the library's folders of dist/ are replaced — `npm run build:web`
 * keeps the demo site in dist/web; (2) TypeScript's rewriteRelativeImportExtensions rewrites ".ts" specifiers in
 * the emitted JavaScript but not in the .d.ts files, and a consumer's compiler without allowImportingTsExtensions
 * must not meet "./x.ts" there, so they are rewritten to "./x.js" here; (3) the result is checked: any relative
 * ".ts" specifier left in dist/ fails the build rather than a user's install.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
const OUT_DIRS = ["src", "apps"]; // tsconfig.build.json's "include", as compiled

for (const d of OUT_DIRS) fs.rmSync(path.join(dist, d), { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
try {
  execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
} catch {
  console.error("build: tsc failed (errors above)");
  process.exit(1);
}

// relative specifiers only: "./x.ts", "../y/z.ts" in `from "…"`, `import "…"` and `import("…")`
const SPEC = /((?:from|import)\s*\(?\s*)(["'])(\.{1,2}\/[^"']*?)\.ts\2/g;
const left = [];
let files = 0;
for (const d of OUT_DIRS) {
  for (const f of fs.readdirSync(path.join(dist, d), { recursive: true })) {
    const p = path.join(dist, d, f);
    if (!/\.(d\.ts|js)$/.test(p)) continue;
    const text = fs.readFileSync(p, "utf8");
    const out = p.endsWith(".d.ts") ? text.replace(SPEC, (_m, pre, q, spec) => `${pre}${q}${spec}.js${q}`) : text;
    if (out !== text) fs.writeFileSync(p, out);
    SPEC.lastIndex = 0;
    if (SPEC.test(out)) left.push(path.relative(root, p));
    SPEC.lastIndex = 0;
    files++;
  }
}
if (left.length) {
  console.error(`build: relative ".ts" imports left in ${left.length} emitted file(s), e.g. ${left.slice(0, 3).join(", ")}`);
  process.exit(1);
}
console.log(`build: dist/ (${OUT_DIRS.join(", ")}) — ${files} .js/.d.ts files`);
