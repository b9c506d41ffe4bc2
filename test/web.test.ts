/**
 * The browser page, end to end in Debian's Chromium (headless, playwright-core): build the site, serve it, load
 * the page with no console errors, run the SCD policy (ONNX Runtime Web) for 300 steps, switch it to TensorFlow.js
 * (wasm, cpu) and check it against ONNX Runtime Web, see deadline misses counted and bad box values refused, take
 * over with a scripted pointer drag, download the recording and read it with the package's reader, replay a
 * shipped demonstration, record reach-obstacle demonstrations and train SCD on them in the page's Web Worker. Fails (never skips) without Chromium: .ci/run installs it.
 * Artifacts (screenshots, web-figures.json with the page's numbers) go to $SCD_WEB_ARTIFACTS or a temp dir.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import "../policies/index.ts";
import "../policies/onnx.ts";
import { buildWeb } from "../src/web/node/build.ts";
import { serveWeb, type WebServer } from "../src/web/node/serve.ts";
import { DatasetReader } from "../src/data/native.ts";
import { nodeFigures } from "./web-node-figures.ts";

const CHROMIUM = process.env.SCD_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const artifacts = process.env.SCD_WEB_ARTIFACTS ? path.resolve(process.env.SCD_WEB_ARTIFACTS) : fs.mkdtempSync(path.join(os.tmpdir(), "scd-web-"));
fs.mkdirSync(artifacts, { recursive: true });

let server: WebServer, browser: BrowserContext, page: Page, profile: string;
const consoleErrors: string[] = [];
const figures: Record<string, unknown> = {};

interface Readouts {
  env: string; controller: string; step: number; coverage: number | null; reward: number; maxReward: number;
  inferMs: number[]; chunks: number; misses: number; errors: number; recorded: number[]; running: boolean; crossOriginIsolated: boolean;
  runtime: string; runtimeLabel: string; tensors: number | null;
  training: { running: boolean; step: number; steps: number; losses: number[]; stepsPerSec: number; seconds: number | null; backend: string; error: string | null };
}
const quantile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};
const parity = (frames: number, k: number, seed: number) => page.evaluate(([f, kk, sd]) => (window as unknown as { scd: { parity(f: number, k: number, s: number): Promise<number> } }).scd.parity(f, kk, sd), [frames, k, seed]);
const readouts = () => page.evaluate(() => (window as unknown as { scd: { readouts(): Readouts } }).scd.readouts());
const text = (id: string) => page.locator(`#${id}`).innerText();

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(v).slice(0, 300)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Raw HTTP (no URL normalization, unlike fetch): status and headers of `rawPath`. */
function get(rawPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    http.get({ host: u.hostname, port: u.port, path: rawPath }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    }).on("error", reject);
  });
}

// uvu reports a failing before hook only as "0 passed": print its error
async function setup(): Promise<void> {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y --no-install-recommends chromium; .ci/run does) or set SCD_CHROMIUM`);
  const t0 = performance.now();
  const b = await buildWeb({ reuseModel: true });
  figures.buildSeconds = (performance.now() - t0) / 1000;
  figures.bundleMB = b.bundleBytes / 1e6;
  server = await serveWeb(b.out, { port: 0 });
  profile = fs.mkdtempSync(path.join(os.tmpdir(), "scd-chromium-"));
  // a fresh profile (playwright passes it as --user-data-dir)
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1100, height: 760 }, acceptDownloads: true });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
}
test.before(() =>
  setup().catch((e) => {
    console.error(`web test setup failed: ${(e as Error).stack ?? e}`);
    throw e;
  }),
);

test.after(async () => {
  await browser?.close();
  await server?.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  console.log(`  web test artifacts: ${artifacts}`);
});

test("the server serves only the site folder, with cross-origin isolation headers", async () => {
  const ok = await get("/");
  assert.is(ok.status, 200);
  assert.is(ok.headers["cross-origin-opener-policy"], "same-origin");
  assert.is(ok.headers["cross-origin-embedder-policy"], "require-corp");
  assert.is((await get("/ort/ort-wasm-simd-threaded.wasm")).headers["content-type"], "application/wasm");
  for (const p of ["/../package.json", "/%2e%2e/package.json", "/..%2fpackage.json", "/%2e%2e%2fpackage.json", "/models/../../package.json", "/%2E%2E/%2E%2E/package.json", "/..\\package.json", "/package.json"])
    assert.is((await get(p)).status, 404, `${p} must be 404`);
});

test("page loads: ONNX Runtime Web wasm + the SCD export, cross-origin isolated, no console errors", async () => {
  await page.goto(server.url);
  await until("the page to be ready", () => page.evaluate(() => !!(window as unknown as { scd?: { ready: boolean } }).scd?.ready), (v) => v, 60_000);
  const r = await readouts();
  assert.is(r.env, "pusht-v1");
  assert.ok(r.crossOriginIsolated);
  assert.match(await text("status"), /SCD policy/);
  assert.equal(consoleErrors, []);
});

test("the SCD policy runs 300 steps as fast as possible: coverage and inference readouts change", async () => {
  await page.selectOption("#speed", "fast");
  await page.fill("#seed", "100000");
  await page.click("#reset");
  const cov0 = await text("coverage");
  let total = 0, seed = 100000, maxReward = 0, misses = 0;
  const infer: number[] = [];
  const t0 = performance.now();
  let shot = false;
  while (total < 300) {
    if (!shot) {
      // mid-episode: the goal T, the block and the fading predicted chunks (the README's picture)
      await until("step 40", readouts, (x) => x.step >= 40 || !x.running, 60_000);
      await page.screenshot({ path: path.join(artifacts, "pusht-running.png") });
      shot = true;
    }
    // the episode ends, or the 300 steps are reached (then it keeps running; the next test resets it)
    const r = await until("the episode to end or 300 steps in all", readouts, (x) => !x.running || total + x.step >= 300, 60_000);
    assert.is(r.controller, "policy");
    assert.is(r.errors, 0);
    total += r.step;
    misses += r.misses;
    infer.push(...r.inferMs);
    maxReward = Math.max(maxReward, r.maxReward);
    if (total === r.step) {
      assert.not.equal(await text("coverage"), cov0, "coverage readout changed");
      await until("the step readout", () => text("stepno"), (s) => s === String(r.step), 2_000);
      await page.screenshot({ path: path.join(artifacts, "pusht-policy.png") });
    }
    if (total < 300) {
      await page.fill("#seed", String(++seed));
      await page.click("#reset");
    }
  }
  const wall = (performance.now() - t0) / 1000;
  infer.sort((a, b) => a - b);
  const q = (p: number) => infer[Math.min(infer.length - 1, Math.ceil(p * infer.length) - 1)];
  assert.ok(maxReward > 0.5, `the policy pushes the block (max reward ${maxReward})`);
  Object.assign(figures, { browserSteps: total, browserChunks: infer.length, browserInferP50Ms: q(0.5), browserInferP99Ms: q(0.99), browserMisses: misses, browserLoopStepsPerSec: total / wall, browserMaxReward: maxReward, seeds: [100000, seed] });
  const inferText = await text("infer");
  assert.match(inferText, /^\d+\.\d \/ \d+\.\d ms$/);
});

test("TensorFlow.js runtime (wasm, then cpu): the shipped checkpoint drives Push-T, equals ONNX Runtime Web, frees its tensors", async () => {
  assert.is((await readouts()).tensors, null, "TensorFlow.js is not loaded until it is chosen");
  for (const [rt, label, steps, frames] of [["tfjs-wasm", /TensorFlow\.js, wasm/, 160, 40], ["tfjs-cpu", /TensorFlow\.js, cpu/, 40, 10]] as const) {
    await page.selectOption("#runtime", rt);
    await until(`the ${rt} runtime`, readouts, (x) => x.runtime === rt, 60_000);
    assert.match(await text("status"), label);
    assert.match(await page.locator("#controller option:checked").innerText(), label);
    await page.fill("#seed", "100000");
    await page.click("#reset");
    const r = await until(`${steps} steps on ${rt}`, readouts, (x) => x.step >= steps || !x.running, 120_000);
    assert.is(r.runtime, rt);
    assert.is(r.errors, 0);
    assert.ok(r.chunks > 0 && (r.tensors ?? 0) > 0, `a tfjs policy is running (${r.chunks} chunks, ${r.tensors} tensors)`);
    if (rt === "tfjs-wasm") await page.screenshot({ path: path.join(artifacts, "pusht-tfjs.png") });
    // closed loop on the real simulator, same noise: tfjs in the page = ONNX Runtime Web in the page
    const worst = await parity(frames, 10, 100000);
    assert.ok(worst <= 1e-4, `${rt} vs ONNX Runtime Web: max |Δ| ${worst} over ${frames} frames`);
    const key = rt === "tfjs-wasm" ? "TfjsWasm" : "TfjsCpu";
    Object.assign(figures, { [`browser${key}InferP50Ms`]: quantile(r.inferMs, 0.5), [`browser${key}InferP99Ms`]: quantile(r.inferMs, 0.99), [`browser${key}Chunks`]: r.inferMs.length, [`browser${key}ParityMaxAbs`]: worst });
  }
  await page.selectOption("#runtime", "onnx");
  await until("ONNX Runtime Web again", readouts, (x) => x.runtime === "onnx", 20_000);
  const back = await readouts();
  assert.is(back.runtime, "onnx");
  assert.is(back.tensors, 0, "the tfjs policies' tensors are all freed");
  assert.equal(consoleErrors, []);
});

test("bad box values are refused in the status line, naming the box and the value; the run goes on", async () => {
  await page.selectOption("#speed", "realtime");
  await page.fill("#seed", "100001");
  await page.click("#reset");
  await until("a running episode", readouts, (x) => x.running && x.step >= 1, 5_000);
  for (const [box, value, msg] of [["seed", "-3", /seed must be a whole number from 0 to 4294967295 \(got "-3"\)/], ["seed", "4294967296", /seed must be .*got "4294967296"/], ["seed", "2.5", /seed must be .*got "2\.5"/], ["k", "0", /denoising steps K must be a whole number from 1 to 1000 \(got "0"\)/]] as const) {
    const before = await readouts();
    await page.fill(`#${box}`, value);
    await page.click("#reset");
    assert.match(await text("status"), msg);
    assert.ok(await page.locator(`#${box}.invalid`).count(), `#${box} is marked invalid`);
    const after = await until("the run to go on", readouts, (x) => x.step > before.step, 5_000);
    assert.ok(after.running, `the refused reset stopped nothing (${box} = ${value})`);
    await page.fill(`#${box}`, box === "k" ? "10" : "100000");
  }
  // with a runtime, env or controller change too: refused before anything stops, the selects show what runs
  const kBad = /denoising steps K must be a whole number from 1 to 1000 \(got "0"\)/;
  await page.fill("#k", "0");
  await page.selectOption("#runtime", "tfjs-cpu");
  await until("the refused runtime switch", () => text("status"), (s) => kBad.test(s), 5_000);
  await page.dispatchEvent("#controller", "change");
  assert.match(await text("status"), kBad);
  await page.fill("#k", "10");
  await page.fill("#seed", "-1");
  await page.selectOption("#env", "reach-obstacle-v1");
  await until("the refused env switch", () => text("status"), (s) => /seed must be .*got "-1"/.test(s), 5_000);
  const still = await readouts();
  assert.equal([await page.locator("#runtime").inputValue(), await page.locator("#env").inputValue(), still.runtime, still.env, still.running], ["onnx", "pusht-v1", "onnx", "pusht-v1", true]);
  await page.fill("#seed", "100000");
  await page.click("#reset");
  assert.not.match(await text("status"), /error/);
  assert.is(await page.locator("input.invalid").count(), 0);
  assert.equal(consoleErrors, [], "refused values are not page errors");
});

test("deadline misses are counted and shown (K = 1000 denoising steps exceed the 50 ms deadline on any machine here)", async () => {
  await page.fill("#k", "1000"); // ~10x K = 100 (16-40 ms measured): far past 50 ms, however idle the machine
  await page.dispatchEvent("#k", "change");
  await page.click("#reset");
  await until("misses", readouts, (x) => x.misses > 0 && x.step >= 20, 60_000);
  await page.click("#pause");
  const r = await readouts();
  await until("the misses readout", () => text("misses"), (s) => s === String(r.misses), 2_000);
  await page.click("#pause");
  figures.browserInferP50MsK1000 = [...r.inferMs].sort((a, b) => a - b)[Math.floor(r.inferMs.length / 2)];
  await page.fill("#k", "10");
  await page.dispatchEvent("#k", "change");
});

test("a pointer drag takes over, records an episode; the download reads back in Node", async () => {
  await page.selectOption("#speed", "realtime");
  await page.fill("#seed", "7");
  await page.click("#reset");
  const box = (await page.locator("#view").boundingBox())!;
  const at = (x: number, y: number) => [box.x + (x / 512) * box.width, box.y + (y / 512) * box.height] as const;
  await page.mouse.move(...at(150, 150));
  await page.mouse.down();
  for (let i = 0; i <= 30; i++) {
    await page.mouse.move(...at(150 + 7 * i, 150 + 5 * i));
    await page.waitForTimeout(100);
  }
  await page.mouse.up();
  const during = await readouts();
  assert.is(during.controller, "human");
  assert.is(await text("who"), "you (pointer)");
  await page.screenshot({ path: path.join(artifacts, "pusht-takeover.png") });
  await page.click("#takeover"); // hand back
  const r = await until("the recording", readouts, (x) => x.recorded.length === 1 && x.controller === "policy", 10_000);
  const steps = r.recorded[0];
  assert.ok(steps >= 20, `recorded ${steps} steps over a 3 s drag at 10 Hz`);
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const file = path.join(artifacts, "pusht-recording.scdd");
  await dl.saveAs(file);
  const rd = DatasetReader.open(file);
  try {
    assert.equal(Object.fromEntries(Object.entries(rd.schema).map(([k, v]) => [k, v.shape])), { "observation.keypoints": [9, 2], "observation.agent_pos": [2], "observation.state": [5], action: [2], timestamp: [1] });
    assert.is(rd.numEpisodes, 1);
    assert.is(rd.numSteps, steps);
    const ep = rd.readEpisode(0);
    const a = ep.action, ts = ep.timestamp;
    // the actions are the pointer's path in env pixels (the drag went from (150,150) towards (360,300))
    for (let i = 0; i < steps; i++) {
      assert.ok(a[2 * i] >= 149 && a[2 * i] <= 361 && a[2 * i + 1] >= 149 && a[2 * i + 1] <= 301, `action ${i} = (${a[2 * i]}, ${a[2 * i + 1]}) lies on the drag`);
      if (i) assert.ok(Math.abs(ts[i] - ts[i - 1] - 0.1) < 0.02, `10 Hz timestamps (step ${i}: ${ts[i] - ts[i - 1]} s)`);
    }
    assert.ok(a[2 * (steps - 1)] - a[0] > 100, "the target followed the pointer");
    assert.is(ts[0], 0);
    for (let i = 0; i < steps; i++) assert.equal(Array.from(ep["observation.agent_pos"].subarray(2 * i, 2 * i + 2)), Array.from(ep["observation.state"].subarray(5 * i, 5 * i + 2)));
  } finally {
    rd.close();
  }
});

test("replay: the shipped demonstrations load and an episode replays", async () => {
  await page.click("#demos");
  await until("the dataset", () => text("data-info"), (s) => /206 episodes/.test(s), 20_000);
  await page.fill("#episode", "3");
  await page.click("#replay");
  const r = await until("replay steps", readouts, (x) => x.controller === "replay" && x.step >= 5, 10_000);
  assert.match(await text("who"), /replay of episode 3/);
  assert.is(r.errors, 0);
});

test("reach-obstacle-v1: its scripted expert reaches the goal through the same page", async () => {
  await page.selectOption("#env", "reach-obstacle-v1");
  await until("the expert to be offered", () => page.locator("#controller option").allInnerTexts(), (o) => o.includes("scripted expert"), 10_000);
  await page.click("#replay"); // the Push-T demonstrations loaded by the replay test do not fit this env
  assert.match(await text("status"), /cannot replay: pusht_human\.scdd: "observation\.state" has shape \[5\], reach-obstacle-v1 has \[2\]/);
  await page.selectOption("#controller", "expert");
  await page.selectOption("#speed", "fast");
  await page.fill("#seed", "100000");
  await page.click("#reset");
  const r = await until("the reach episode to end", readouts, (x) => x.env === "reach-obstacle-v1" && !x.running, 30_000);
  assert.match(await text("status"), /success/);
  assert.is(r.maxReward, 1);
  assert.is(r.errors, 0);
  await page.screenshot({ path: path.join(artifacts, "reach-expert.png") });
  await page.selectOption("#env", "pusht-v1");
  await until("Push-T back", readouts, (x) => x.env === "pusht-v1", 10_000);
});

test("train in the page: four recorded reach-obstacle-v1 episodes, SCD trained in a Web Worker, the page switches to it", async () => {
  await page.selectOption("#env", "reach-obstacle-v1");
  await until("reach-obstacle-v1", readouts, (x) => x.env === "reach-obstacle-v1", 10_000);
  await page.selectOption("#speed", "realtime");
  const box = (await page.locator("#view").boundingBox())!;
  const at = (x: number, y: number) => [box.x + ((x + 1) / 2) * box.width, box.y + ((1 - y) / 2) * box.height] as const;
  for (let ep = 0; ep < 4; ep++) {
    // a person's demonstration: drag the target around the obstacle (left, right, left, right) to the goal
    await page.fill("#seed", String(500 + ep));
    await page.click("#reset");
    const side = ep % 2 ? 1 : -1, pts: [number, number][] = [[0, -0.8], [0.55 * side, -0.35], [0.55 * side, 0.35], [0, 0.8]];
    await page.mouse.move(...at(0, -0.8));
    await page.mouse.down();
    for (let i = 1; i < pts.length; i++)
      for (let j = 1; j <= 10; j++) {
        await page.mouse.move(...at(pts[i - 1][0] + ((pts[i][0] - pts[i - 1][0]) * j) / 10, pts[i - 1][1] + ((pts[i][1] - pts[i - 1][1]) * j) / 10));
        await page.waitForTimeout(130);
      }
    await until(`demonstration ${ep} to reach the goal`, readouts, (x) => x.recorded.length === ep + 1, 10_000);
    await page.mouse.up();
  }
  assert.equal(await page.locator("#train").isDisabled(), false);
  await page.fill("#train-steps", "150");
  await page.click("#train");
  await until("training to start", readouts, (x) => x.training.step > 0, 60_000);
  await page.screenshot({ path: path.join(artifacts, "reach-training.png") });
  const r = await until("training to finish", readouts, (x) => !x.training.running, 300_000);
  const t = r.training, mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.is(t.error, null);
  assert.is(t.step, 150);
  assert.is(t.losses.length, 150);
  assert.ok(mean(t.losses.slice(-10)) < 0.5 * mean(t.losses.slice(0, 10)), `the loss fell: ${mean(t.losses.slice(0, 10))} → ${mean(t.losses.slice(-10))}`);
  assert.match(await text("train-info"), /step 150 \/ 150/);
  assert.match(await page.locator("#controller option:checked").innerText(), /trained in this page/);
  // the trained policy drives a fresh episode
  await page.selectOption("#speed", "fast");
  await page.fill("#seed", "100000");
  await page.click("#reset");
  const e = await until("the trained policy's episode", readouts, (x) => !x.running, 60_000);
  assert.is(e.controller, "policy");
  assert.is(e.errors, 0);
  assert.ok(e.chunks > 0 && (e.tensors ?? 0) > 0, "a tfjs policy drove it");
  await page.screenshot({ path: path.join(artifacts, "reach-trained.png") });
  Object.assign(figures, { pageTrainSteps: t.step, pageTrainSeconds: t.seconds, pageTrainStepsPerSec: t.stepsPerSec, pageTrainLossFirst10: mean(t.losses.slice(0, 10)), pageTrainLossLast10: mean(t.losses.slice(-10)), pageTrainedEpisodeSteps: e.step, pageTrainedMaxReward: e.maxReward });
  await page.selectOption("#env", "pusht-v1");
  const back = await until("Push-T back", readouts, (x) => x.env === "pusht-v1", 10_000);
  assert.is(back.recorded.length, 1, "each env keeps its own recordings (the Push-T drag's episode)");
});

test("the README's smallest page (examples/web/minimal.ts, scd-policy/web) runs the shipped checkpoint on TensorFlow.js", async () => {
  const p = await browser.newPage();
  const errors: string[] = [];
  p.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  p.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  try {
    await p.goto(`${server.url}minimal.html`);
    const line = await until("30 steps on the smallest page", () => p.locator("p").innerText(), (s) => Number(/^step (\d+)/.exec(s)?.[1] ?? 0) >= 30, 60_000);
    assert.match(line, /^step \d+, coverage \d\.\d{3}, max reward \d\.\d{3}$/);
    await p.screenshot({ path: path.join(artifacts, "minimal.png") });
    assert.equal(errors, []);
  } finally {
    await p.close();
  }
});

test("numbers: browser vs Node (simulator steps/s, inference per chunk), written with the screenshots", async () => {
  const sim = await page.evaluate(() => (window as unknown as { scd: { bench(n: number): Promise<number> } }).scd.bench(3000));
  figures.browserSimStepsPerSec = sim;
  Object.assign(figures, await nodeFigures(300, 100000));
  figures.userAgent = await page.evaluate(() => navigator.userAgent);
  figures.measuredAt = new Date().toISOString();
  fs.writeFileSync(path.join(artifacts, "web-figures.json"), JSON.stringify(figures, null, 2) + "\n");
  assert.ok(sim > 100, `browser simulator ${sim} steps/s`);
  assert.equal(consoleErrors, [], "no console errors during the whole session");
});

test.run();
