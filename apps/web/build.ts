/**
 * Node edge: builds the static site (dist/web by default) — the page bundled by esbuild for the browser platform
 * (@napi-rs/canvas aliased to src/web/canvas.ts; TensorFlow.js split into a chunk loaded when the page switches to
 * it; three.js in the chunk of arm-push-v1's 3-D view), ONNX Runtime Web's and tfjs-backend-wasm's wasm modules, MuJoCo's (mujoco-js, for arm-push-v1), the shipped Push-T SCD checkpoint both exported to
 * ONNX (models/) and as the checkpoint itself for TensorFlow.js (checkpoints/), and the shipped Push-T demonstrations;
 * arm-push-v1's and pusht-image-v1's exports are fetched when the page switches to that env (load.json's onDemand). The bundle's inputs are checked: a Node
 * built-in or a native addon pulled into the browser bundle is an error naming the importing file. The caller
 * (an entry point: apps/web/build-cli.ts, a test) registers the policies and their ONNX exporters.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { builtinModules, createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { ScdError } from "../../src/errors.ts";
import { exportCheckpoint, readManifest, type Manifest } from "../../src/checkpoints/export-dir.ts";
import { readCheckpointMeta } from "../../src/checkpoints/checkpoint.ts";
import { precompress } from "./compress.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);
const NATIVE = ["@napi-rs/canvas", "onnxruntime-node", "@tensorflow/tfjs-node"];

export interface BuildOptions {
  out?: string;
  /** The Push-T SCD checkpoint to export (default: the shipped one). */
  checkpoint?: string;
  /** An SCD checkpoint for reach-obstacle-v1 (none is shipped): exported to models/reach-scd and offered by the page. */
  reachCheckpoint?: string;
  /**
   * The SCD pixel checkpoint for pusht-image-v1 (96 × 96 camera frame + agent position): exported to
   * models/pusht-image-scd, fetched when the page switches to that env. Default: assets/checkpoints/pusht-image when
   * it exists (without one the page does not offer pusht-image-v1).
   */
  imageCheckpoint?: string;
  /** Skip an ONNX export when its models/ folder already holds one from the same checkpoint and step. */
  reuseModel?: boolean;
  minify?: boolean;
}

export interface BuildResult {
  out: string;
  /** JavaScript the page loads at start: app.js and the chunks it imports statically. */
  bundleBytes: number;
  /** The chunks under chunks/ the page imports on demand only (TensorFlow.js and the tfjs policies). */
  lazyBytes: number;
  /** Every file esbuild read into the bundle (paths relative to the project). */
  inputs: string[];
  /** Everything the page fetches before it runs (JavaScript at load, the ORT wasm, the ONNX export), as files */
  firstLoadBytes: number;
  /** the same as sent to a browser that accepts Brotli (the precompressed variants) */
  firstLoadSentBytes: number;
}

/** Names a Node built-in or native addon among a bundle's inputs (or imports); null when there is none. */
export function nodeOnlyInput(meta: esbuild.Metafile): string | null {
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  for (const [file, inp] of Object.entries(meta.inputs)) {
    if (file.endsWith(".node") || NATIVE.some((n) => file.includes(`node_modules/${n}/`))) return `${file} (a native addon)`;
    for (const imp of inp.imports) if (builtins.has(imp.path) || imp.path.startsWith("node:")) return `${imp.path} (a Node built-in, imported by ${file})`;
  }
  return null;
}

/** The site's entry points: output name → source. The worker trains in the page; minimal is the smallest page of docs/browser.md. */
export const PAGE_ENTRIES = { app: path.join(ROOT, "apps/web/main.ts"), "train-worker": path.join(ROOT, "apps/web/train-worker.ts"), minimal: path.join(ROOT, "examples/web/minimal.ts") };

/**
 * Bundle `entries` for the browser into `outdir`/<name>.js, their shared code and dynamic imports split into
 * `outdir`/chunks/. Throws ScdError when a Node-only module is pulled in.
 */
export async function bundlePage(outdir: string, minify = true, entries: Record<string, string> = PAGE_ENTRIES): Promise<esbuild.Metafile> {
  let r: esbuild.BuildResult<{ metafile: true }>;
  fs.rmSync(path.join(outdir, "chunks"), { recursive: true, force: true }); // no stale chunks from an earlier build
  try {
    r = await esbuild.build({
      entryPoints: entries,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      outdir,
      chunkNames: "chunks/[name]-[hash]",
      minify,
      sourcemap: true,
      metafile: true,
      logLevel: "silent",
      alias: { "@napi-rs/canvas": path.join(ROOT, "src/web/canvas.ts") },
      define: { "process.env.NODE_ENV": '"production"' },
    });
  } catch (e) {
    throw new ScdError(`web bundle failed: ${(e as Error).message.split("\n").slice(0, 6).join("\n")}`);
  }
  const bad = nodeOnlyInput(r.metafile);
  if (bad) throw new ScdError(`web bundle pulls in ${bad}; the browser core must not import Node-only modules`);
  return r.metafile;
}

/** Copy unless `dst` holds the same bytes already (its age then keeps its compressed variants valid). */
function copy(src: string, dst: string): void {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  if (fs.existsSync(dst) && fs.statSync(dst).size === fs.statSync(src).size && fs.readFileSync(dst).equals(fs.readFileSync(src))) return;
  fs.copyFileSync(src, dst);
}

export async function buildWeb(opts: BuildOptions = {}): Promise<BuildResult> {
  const out = path.resolve(opts.out ?? path.join(ROOT, "dist/web"));
  const ckpt = path.resolve(opts.checkpoint ?? path.join(ROOT, "assets/checkpoints/scd-pusht"));
  fs.mkdirSync(out, { recursive: true });
  const meta = await bundlePage(out, opts.minify ?? true);
  for (const f of ["index.html", "style.css"]) copy(path.join(ROOT, "apps/web", f), path.join(out, f));
  copy(path.join(ROOT, "examples/web/minimal.html"), path.join(out, "minimal.html"));
  const ortDir = path.dirname(require.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
  for (const f of ["ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]) copy(path.join(ortDir, f), path.join(out, "ort", f));
  const tfjsDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"));
  for (const f of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"]) copy(path.join(tfjsDir, f), path.join(out, "tfjs", f));
  // env id → its folder under models/ (ONNX export) and checkpoints/ (tfjs), read by the page
  const models: Record<string, string> = { "pusht-v1": "pusht-scd" };
  if (opts.reachCheckpoint) models["reach-obstacle-v1"] = "reach-scd";
  // arm-push-v1's SCD checkpoint, loaded with MuJoCo when the page switches to that env (not at start)
  const mujocoJs = path.join(ROOT, "node_modules/mujoco-js/dist/mujoco_wasm.js");
  const armCkpt = path.join(ROOT, "assets/checkpoints/arm-push");
  if (fs.existsSync(mujocoJs) && fs.existsSync(armCkpt)) models["arm-push-v1"] = "arm-push-scd";
  // pusht-image-v1's SCD pixel policy, fetched when the page switches to that env (not at start)
  const imageCkpt = path.resolve(opts.imageCheckpoint ?? path.join(ROOT, "assets/checkpoints/pusht-image"));
  if (opts.imageCheckpoint || fs.existsSync(imageCkpt)) models["pusht-image-v1"] = "pusht-image-scd";
  const sources: Record<string, string> = { "pusht-v1": ckpt, "arm-push-v1": armCkpt, "pusht-image-v1": imageCkpt, ...(opts.reachCheckpoint ? { "reach-obstacle-v1": path.resolve(opts.reachCheckpoint) } : {}) };
  for (const [env, dir] of Object.entries(models)) {
    const src = sources[env];
    const modelDir = path.join(out, "models", dir);
    const { step, layout } = readCheckpointMeta(src); // one clear error for a missing or malformed checkpoint
    if (env === "pusht-image-v1" && !layout.images?.some((f) => f.name === "observation.image"))
      throw new ScdError(`${src}: the pusht-image-v1 checkpoint must observe "observation.image" (an SCD pixel policy); its layout has no such image`);
    let existing: Manifest | null = null;
    try {
      existing = readManifest(modelDir);
    } catch {} // none yet, or unreadable: export afresh
    if (!(opts.reuseModel && existing?.source.checkpoint === src && existing.source.step === step)) exportCheckpoint(src, modelDir, { force: true, minimal: true }); // the page loads every byte: no fused graph (its K is the user's)
    // the checkpoint itself, for the page's TensorFlow.js runtime (weights.msgpack: the EMA weights)
    for (const f of ["checkpoint.json", "weights.msgpack"]) copy(path.join(src, f), path.join(out, "checkpoints", dir, f));
  }
  for (const top of ["models", "checkpoints"])
    for (const d of fs.existsSync(path.join(out, top)) ? fs.readdirSync(path.join(out, top)) : [])
      if (d !== "index.json" && !Object.values(models).includes(d)) fs.rmSync(path.join(out, top, d), { recursive: true, force: true });
  fs.writeFileSync(path.join(out, "models/index.json"), JSON.stringify(models, null, 2) + "\n");
  copy(path.join(ROOT, "assets/datasets/pusht/pusht_human.scdd"), path.join(out, "data/pusht_human.scdd"));
  // arm-push-v1's MuJoCo module (the optional peer mujoco-js), fetched when the page switches to that env (index.html's import map)
  const onDemand: Record<string, Record<string, number>> = {};
  const modelFiles = (d: string) => fs.readdirSync(path.join(out, "models", d)).filter((f) => !/\.(br|gz)$/.test(f)).map((f) => `models/${d}/${f}`);
  if (fs.existsSync(mujocoJs)) {
    copy(mujocoJs, path.join(out, "mujoco/mujoco_wasm.js"));
    const files = ["mujoco/mujoco_wasm.js", ...(models["arm-push-v1"] ? modelFiles(models["arm-push-v1"]) : [])];
    onDemand["arm-push-v1"] = Object.fromEntries(files.map((f) => [f, fs.statSync(path.join(out, f)).size]));
  }
  if (models["pusht-image-v1"]) onDemand["pusht-image-v1"] = Object.fromEntries(modelFiles(models["pusht-image-v1"]).map((f) => [f, fs.statSync(path.join(out, f)).size]));
  // what the page fetches before it can run, with sizes, for its loading bar (apps/web/loading.ts)
  const atStart = ["ort/ort-wasm-simd-threaded.wasm", "models/index.json", ...Object.entries(models).filter(([env]) => !onDemand[env]).flatMap(([, d]) => modelFiles(d))];
  fs.writeFileSync(path.join(out, "load.json"), JSON.stringify({ files: Object.fromEntries(atStart.map((f) => [f, fs.statSync(path.join(out, f)).size])), onDemand }, null, 1) + "\n");
  const firstLoad = atStart.reduce((n, f) => n + fs.statSync(path.join(out, f)).size, 0);
  precompress(out);
  const sentAtStart = atStart.reduce((n, f) => n + Math.min(...[f, f + ".br", f + ".gz"].filter((v) => fs.existsSync(path.join(out, v))).map((v) => fs.statSync(path.join(out, v)).size)), 0);
  const { initial, lazy } = loadSizes(meta);
  return { out, bundleBytes: initial, lazyBytes: lazy, inputs: Object.keys(meta.inputs), firstLoadBytes: firstLoad + initial, firstLoadSentBytes: sentAtStart + compressedJs(out, meta) };
}

/**
 * Bytes of JavaScript the page (app.js) loads at start — app.js and the chunks it imports statically — and on demand:
 * what it imports dynamically (TensorFlow.js) and its training worker, with their own imports. The smallest-page
 * example's own file counts in neither.
 */
function loadSizes(meta: esbuild.Metafile): { initial: number; lazy: number } {
  const outs = Object.keys(meta.outputs).filter((f) => f.endsWith(".js"));
  const entry = (name: string) => outs.find((f) => path.basename(f) === name)!;
  const closure = (roots: string[], kinds: string[]) => {
    const seen = new Set<string>();
    const visit = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const i of meta.outputs[f]?.imports ?? []) if (kinds.includes(i.kind)) visit(i.path);
    };
    roots.forEach(visit);
    return seen;
  };
  const initial = closure([entry("app.js")], ["import-statement"]);
  const all = closure([entry("app.js"), entry("train-worker.js")], ["import-statement", "dynamic-import"]);
  const bytes = (fs: Iterable<string>) => [...fs].reduce((a, f) => a + meta.outputs[f].bytes, 0);
  return { initial: bytes(initial), lazy: bytes([...all].filter((f) => !initial.has(f))) };
}

/** Bytes of the JavaScript loaded at start as sent Brotli-compressed (app.js and its static chunks). */
function compressedJs(out: string, meta: esbuild.Metafile): number {
  const entry = Object.keys(meta.outputs).find((f) => path.basename(f) === "app.js")!;
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const i of meta.outputs[f]?.imports ?? []) if (i.kind === "import-statement") visit(i.path);
  };
  visit(entry);
  return [...seen].reduce((n, f) => {
    const abs = path.resolve(f);
    return n + (fs.existsSync(abs + ".br") ? fs.statSync(abs + ".br").size : fs.statSync(abs).size);
  }, 0);
}
