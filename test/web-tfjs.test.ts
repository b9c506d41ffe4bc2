/**
 * TensorFlow.js in the page, in Debian's Chromium (web-site.ts): the shipped checkpoint on the tfjs wasm and cpu
 * backends drives Push-T and gives ONNX Runtime Web's chunks in the same page, its tensors all freed afterwards;
 * four reach-obstacle demonstrations dragged with the pointer train SCD in the page's Web Worker and the trained
 * policy drives; the smallest page of docs/browser.md (examples/web/minimal.ts) runs. Numbers go to web-tfjs-figures.json.
 */
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { openSite, until, writeFigures, type Site } from "./web-site.ts";
import { quantiles } from "../src/loop/metrics.ts";

let site: Site, page: Page;
const readouts = () => site.readouts(), text = (id: string) => site.text(id);
const parity = (frames: number, k: number, seed: number) => page.evaluate(([f, kk, sd]) => (window as unknown as { scd: { parity(f: number, k: number, s: number): Promise<number> } }).scd.parity(f, kk, sd), [frames, k, seed]);

// uvu reports a failing before hook only as "0 passed": print its error
test.before(async () => {
  try {
    site = await openSite();
    page = site.page;
    await page.selectOption("#speed", "fast");
  } catch (e) {
    console.error(`web-tfjs test setup failed: ${(e as Error).stack ?? e}`);
    throw e;
  }
});
test.after(() => site?.close());

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
    if (rt === "tfjs-wasm") await page.screenshot({ path: path.join(site.artifacts, "pusht-tfjs.png") });
    // closed loop on the real simulator, same noise: tfjs in the page = ONNX Runtime Web in the page
    const worst = await parity(frames, 10, 100000);
    assert.ok(worst <= 1e-4, `${rt} vs ONNX Runtime Web: max |Δ| ${worst} over ${frames} frames`);
    const key = rt === "tfjs-wasm" ? "TfjsWasm" : "TfjsCpu";
    const q = quantiles(r.inferMs);
    Object.assign(site.figures, { [`browser${key}InferP50Ms`]: q.p50, [`browser${key}InferP99Ms`]: q.p99, [`browser${key}Chunks`]: r.inferMs.length, [`browser${key}ParityMaxAbs`]: worst });
  }
  await page.selectOption("#runtime", "onnx");
  await until("ONNX Runtime Web again", readouts, (x) => x.runtime === "onnx", 20_000);
  const back = await readouts();
  assert.is(back.runtime, "onnx");
  assert.is(back.tensors, 0, "the tfjs policies' tensors are all freed");
  assert.equal(site.consoleErrors, []);
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
  await page.screenshot({ path: path.join(site.artifacts, "reach-training.png") });
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
  await page.screenshot({ path: path.join(site.artifacts, "reach-trained.png") });
  Object.assign(site.figures, { pageTrainSteps: t.step, pageTrainSeconds: t.seconds, pageTrainStepsPerSec: t.stepsPerSec, pageTrainLossFirst10: mean(t.losses.slice(0, 10)), pageTrainLossLast10: mean(t.losses.slice(-10)), pageTrainedEpisodeSteps: e.step, pageTrainedMaxReward: e.maxReward });
  // each env keeps its own recordings
  await page.selectOption("#env", "pusht-v1");
  assert.is((await until("Push-T", readouts, (x) => x.env === "pusht-v1", 10_000)).recorded.length, 0);
  await page.selectOption("#env", "reach-obstacle-v1");
  assert.is((await until("reach-obstacle-v1 again", readouts, (x) => x.env === "reach-obstacle-v1", 10_000)).recorded.length, 4);
  assert.equal(await page.locator("#train").isDisabled(), false);
});

test("the smallest page of docs/browser.md (examples/web/minimal.ts, scd-policy/web) runs the shipped checkpoint on TensorFlow.js", async () => {
  const p = await site.browser.newPage();
  const errors: string[] = [];
  p.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  p.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  try {
    await p.goto(`${site.server.url}minimal.html`);
    const line = await until("30 steps on the smallest page", () => p.locator("p").innerText(), (s) => Number(/^step (\d+)/.exec(s)?.[1] ?? 0) >= 30, 60_000);
    assert.match(line, /^step \d+, coverage \d\.\d{3}, max reward \d\.\d{3}$/);
    await p.screenshot({ path: path.join(site.artifacts, "minimal.png") });
    assert.equal(errors, []);
  } finally {
    await p.close();
  }
});

test("no console errors in the whole session; the numbers are written", async () => {
  await writeFigures(site, "web-tfjs-figures.json");
  assert.equal(site.consoleErrors, []);
});

test.run();
