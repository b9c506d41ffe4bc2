#!/usr/bin/env node
// The `scd` command. In a checkout (the TypeScript sources are here) it runs them through tsx, a dev dependency,
// so `npx scd …` needs no build step and never runs a stale dist/. An installed package ships no sources, only
// the compiled dist/ (built by `npm pack`'s prepack), and runs that with plain Node.
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import("../dist/src/cli/main.js");
}
