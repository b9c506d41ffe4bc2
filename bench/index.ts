/**
 * `npm run bench [-- <name …>] [--json]`: runs the named benchmarks (all by default) in one process and prints
 * a table per benchmark plus the ratios; `--json` prints one object keyed by benchmark name.
 */
import type { BenchResult } from "./util.ts";
import { benchBackend } from "./backend.ts";
import { benchClaim } from "./claim.ts";
import { benchClaimImages } from "./claim-images.ts";
import { benchEnvs } from "./envs.ts";
import { benchLoop } from "./loop.ts";
import { benchPolicy } from "./policy.ts";
import { benchTrain } from "./train.ts";

const BENCHES: Record<string, () => Promise<BenchResult>> = {
  backend: benchBackend,
  claim: benchClaim,
  "claim-images": benchClaimImages,
  envs: benchEnvs,
  loop: benchLoop,
  policy: benchPolicy,
  train: benchTrain,
};

const args = process.argv.slice(2);
const json = args.includes("--json");
const names = args.filter((a) => !a.startsWith("--"));
for (const n of names) if (!BENCHES[n]) {
  process.stderr.write(`bench: unknown benchmark "${n}"; available: ${Object.keys(BENCHES).join(", ")}\n`);
  process.exit(2);
}
// run by name only: it trains nothing but times six models with and without spatial tokens (tens of minutes)
const BY_NAME_ONLY = new Set(["claim-images"]);
const results: Record<string, unknown> = {};
for (const n of names.length ? names : Object.keys(BENCHES).filter((k) => !BY_NAME_ONLY.has(k))) {
  if (!json) process.stderr.write(`running ${n}…\n`);
  const r = await BENCHES[n]();
  results[n] = r.json;
  if (!json) {
    const w = r.rows[0].map((_, j) => Math.max(...r.rows.map((row) => row[j].length)));
    process.stdout.write(`\n## ${r.name}: ${r.title}\n` + r.rows.map((row) => "  " + row.map((c, j) => c.padEnd(w[j])).join("  ")).join("\n") + `\n  → ${r.summary}\n`);
  }
}
if (json) process.stdout.write(JSON.stringify(results, null, 2) + "\n");
