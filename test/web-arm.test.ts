/**
 * arm-push-v1 in the page, end to end in Debian's Chromium (web-site.ts): the env is offered, MuJoCo's module loads on
 * demand (once, with the loading bar), the scripted expert drives it live in the three.js view with no console errors
 * and a canvas that is not blank; the same seed gives the same episode as the same loop in Node, bit for bit; a
 * pointer drag on the table takes over and brings the tip to the dragged point, and the recording reads back; shift-drag
 * orbits the camera without taking over; Push-T comes back. Screenshots and numbers (3-D frames/s) go beside web.test.ts's.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { createCanvas, loadImage } from "@napi-rs/canvas";
import "../src/envs/index.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { expertFor } from "../src/policies/builtin.ts";
import { LiveEnv } from "../src/web/live-env.ts";
import { LiveRun } from "../src/web/live-loop.ts";
import { DatasetReader } from "../src/datasets/native.ts";
import { openSiteAround, until, writeFigures, type Site } from "./web-site.ts";

const ID = "arm-push-v1";
let site: Site, page: Page;
const readouts = () => site.readouts(), text = (id: string) => site.text(id);
const scd = <T>(fn: string, ...args: unknown[]) => page.evaluate(([f, a]) => (window as unknown as Record<string, Record<string, (...x: unknown[]) => unknown>>).scd[f as string](...(a as unknown[])), [fn, args] as const) as Promise<T>;
const mujocoResponses: number[] = [];

openSiteAround(test, (s) => {
  site = s;
  page = s.page;
  page.on("response", (r) => r.url().endsWith("mujoco/mujoco_wasm.js") && mujocoResponses.push(r.status()));
});

/** Mean and standard deviation of the luminance of a PNG, and how many distinct colours it has. */
async function pixelStats(png: Buffer): Promise<{ mean: number; std: number; colours: number }> {
  const img = await loadImage(png), c = createCanvas(img.width, img.height), ctx = c.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const px = ctx.getImageData(0, 0, img.width, img.height).data, seen = new Set<number>();
  let s = 0, s2 = 0;
  const n = px.length / 4;
  for (let i = 0; i < px.length; i += 4) {
    const l = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
    s += l;
    s2 += l * l;
    seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
  }
  return { mean: s / n, std: Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2)), colours: seen.size };
}

/** The same loop as the page's (LiveRun, receding with 1 action executed, K 10) driving the expert from `seed` in Node, to its end. */
async function nodeEpisode(seed: number): Promise<{ step: number; state: number[]; misses: number }> {
  const env = new LiveEnv(await makeEnv(ID, {}, { timeLimit: false }));
  const expert = (await expertFor(ID))!();
  let misses = 0;
  env.restart(seed);
  const run = new LiveRun(env, expert, { strategy: { kind: "receding", execute: 1 }, steps: 10, seed, maxSteps: 200 }, { onEvent: (e) => void (e.type === "miss" && misses++) });
  run.start();
  while (run.running) run.pump(1);
  const out = { step: env.stats.step, state: Array.from(env.current!["observation.state"]), misses };
  env.close();
  return out;
}

test("arm-push-v1 is offered; MuJoCo loads once on demand; the expert drives it live in 3-D with no console errors, the canvas not blank", async () => {
  assert.ok((await page.locator("#env option").allInnerTexts()).some((t) => t.includes(ID)), "the env select offers arm-push-v1");
  assert.equal(mujocoResponses, [], "MuJoCo's module is not fetched before arm-push-v1 is chosen");
  const t0 = performance.now();
  await page.selectOption("#env", ID);
  await until("arm-push-v1 driven by its expert", readouts, (x) => x.env === ID && x.running, 120_000);
  site.figures.armSwitchSeconds = (performance.now() - t0) / 1000;
  // fetched with the loading bar, then imported: a revalidation (304, a few hundred bytes) finds it in the HTTP cache
  const sent = await page.evaluate(() => performance.getEntriesByType("resource").filter((e) => e.name.endsWith("mujoco/mujoco_wasm.js")).map((e) => (e as PerformanceResourceTiming).transferSize));
  assert.ok(mujocoResponses.length >= 1 && sent.length === mujocoResponses.length && sent.filter((b) => b > 10_000).length === 1, `MuJoCo's module sent once (bytes per request ${sent})`);
  site.figures.mujocoSentBytes = sent;
  assert.ok(await page.locator("#loading").isHidden(), "the loading overlay is gone");
  // the shipped arm-push SCD export comes with MuJoCo (on demand) and is offered first; the expert drives these tests
  const offered = await page.locator("#controller option").allInnerTexts();
  assert.equal(offered.length, 2, `controllers offered: ${offered}`);
  assert.match(offered[0], /^SCD policy/);
  assert.is(offered[1], "scripted expert");
  await page.selectOption("#controller", "expert");
  assert.ok(await page.locator("canvas[aria-label^='arm-push-v1 in 3-D']").isVisible(), "the 3-D canvas is shown");
  await page.selectOption("#speed", "realtime");
  await page.fill("#seed", "100000");
  await page.click("#reset");
  const r = await until("30 steps of the expert", readouts, (x) => x.step >= 30 || !x.running, 30_000);
  assert.is(r.controller, "policy");
  assert.is(r.errors, 0);
  assert.is(r.misses, 0);
  const png = await page.locator(".arena").screenshot({ path: path.join(site.artifacts, "arm-expert.png") });
  const px = await pixelStats(png);
  assert.ok(px.std > 15 && px.colours > 200, `the 3-D view shows a scene: luminance std ${px.std.toFixed(1)}, ${px.colours} colours`);
  site.figures.armPixels = px;
  site.figures.arm3dFps = await scd<number>("armFps", 60);
  assert.ok(site.figures.arm3dFps as number > 5, `3-D view ${site.figures.arm3dFps} frames/s`);
  assert.equal(site.consoleErrors, []);
});

test("the same seed gives the same episode as the same loop in Node: steps, block pose and tip bit for bit", async () => {
  await page.selectOption("#speed", "fast");
  const parity: unknown[] = (site.figures.armParity = []);
  for (const seed of [100003, 7]) {
    await page.fill("#seed", String(seed));
    await page.click("#reset");
    const r = await until(`the episode of seed ${seed} to end`, readouts, (x) => x.env === ID && !x.running, 60_000);
    assert.match(await text("status"), /success/);
    const web = { step: r.step, state: await scd<number[]>("state"), misses: r.misses };
    const node = await nodeEpisode(seed);
    assert.equal(web, node, `seed ${seed}: the page's episode is Node's`);
    parity.push({ seed, steps: web.step, block: web.state.slice(10, 12) });
  }
  assert.equal(site.consoleErrors, []);
});

test("the shipped arm-push SCD policy drives the arm in the page (ONNX Runtime Web) and pushes the cube home", async () => {
  await page.selectOption("#speed", "fast");
  await page.selectOption("#controller", "scd");
  await page.fill("#seed", "100000");
  await page.click("#reset");
  const r = await until("the SCD episode of seed 100000 to end", readouts, (x) => x.env === ID && x.step > 0 && !x.running, 120_000);
  assert.match(await text("status"), /success/, `status: ${await text("status")}`);
  assert.ok(r.chunks > 0 && r.errors === 0, `chunks ${r.chunks}, errors ${r.errors}`);
  site.figures.armScd = { seed: 100000, steps: r.step, chunks: r.chunks, inferMsP50: r.inferMs.sort((a, b) => a - b)[r.inferMs.length >> 1] };
  await page.selectOption("#controller", "expert");
  assert.equal(site.consoleErrors, []);
});

test("a pointer drag on the table takes over and brings the tip to the dragged point; the recording reads back", async () => {
  // the expert's episode ends first, so the press starts a fresh one: the tip at its start, (0.4, 0), the block out of the way
  await page.selectOption("#speed", "fast");
  await page.fill("#seed", "100000");
  await page.click("#reset");
  await until("the expert's episode to end", readouts, (x) => !x.running, 60_000);
  const box = (await page.locator("#view").boundingBox())!, size = await page.locator("#view").evaluate((c) => (c as HTMLCanvasElement).width);
  const client = async (p: number[]) => {
    const [x, y] = await scd<[number, number]>("toPx", p);
    return [box.x + (x / size) * box.width, box.y + (y / size) * box.height] as const;
  };
  const from = [0.4, 0], goal = [0.45, 0.22]; // beside the block's start region (x ≥ 0.52): a clear way
  await page.mouse.move(...(await client(from)));
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) {
    await page.mouse.move(...(await client(from.map((v, k) => v + ((goal[k] - v) * i) / 10))));
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(2500); // held there: the tip settles
  const during = await readouts(), s1 = await scd<number[]>("state");
  assert.ok(during.step >= 20 && during.running, `a fresh episode under the pointer: ${JSON.stringify(during).slice(0, 200)}`);
  assert.is(during.controller, "human");
  assert.is(await text("who"), "you (pointer)");
  const d0 = Math.hypot(from[0] - goal[0], from[1] - goal[1]), d1 = Math.hypot(s1[7] - goal[0], s1[8] - goal[1]);
  assert.ok(d1 < 0.01, `the tip went from ${d0.toFixed(3)} m to ${d1.toFixed(4)} m of the dragged point`);
  await page.locator(".arena").screenshot({ path: path.join(site.artifacts, "arm-takeover.png") });
  await page.mouse.up();
  await page.click("#takeover"); // hand back
  const r = await until("the recording", readouts, (x) => x.recorded.length === 1 && x.controller === "policy", 10_000);
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const file = path.join(site.artifacts, "arm-recording.scdd");
  await dl.saveAs(file);
  const rd = DatasetReader.open(file);
  try {
    assert.equal(Object.fromEntries(Object.entries(rd.schema).map(([k, v]) => [k, v.shape])), { "observation.state": [14], action: [2], timestamp: [1] });
    assert.is(rd.numSteps, r.recorded[0]);
    const a = rd.readEpisode(0).action, n = a.length / 2;
    assert.ok(n >= 20, `${n} steps recorded`);
    assert.ok(Math.hypot(a[2 * n - 2] - goal[0], a[2 * n - 1] - goal[1]) < 0.003, `the last action (${a[2 * n - 2]}, ${a[2 * n - 1]}) is the dragged point ${goal}`);
  } finally {
    rd.close();
  }
  assert.equal(site.consoleErrors, []);
});

test("shift-drag orbits the camera without taking over; the top view toggle; Push-T comes back", async () => {
  const before = await scd<[number, number]>("toPx", [0.5, 0]);
  const box = (await page.locator("#view").boundingBox())!;
  await page.keyboard.down("Shift");
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 80, box.y + box.height / 2 + 20, { steps: 5 });
  await page.mouse.up();
  await page.keyboard.up("Shift");
  const after = await scd<[number, number]>("toPx", [0.5, 0]);
  assert.ok(Math.hypot(after[0] - before[0], after[1] - before[1]) > 5, `the view turned: (0.5, 0) from ${before} to ${after} px`);
  assert.is((await readouts()).controller, "policy", "orbiting does not take over");
  await page.click("text=Top view");
  await page.waitForTimeout(200);
  await page.locator(".arena").screenshot({ path: path.join(site.artifacts, "arm-top.png") });
  const [ax, ay] = await scd<[number, number]>("toPx", [0.6, 0]), [bx, by] = await scd<[number, number]>("toPx", [0.4, 0]);
  assert.ok(ay < by && Math.abs(ax - bx) < 2, "from above, +x points up the screen");
  await page.selectOption("#env", "pusht-v1");
  await until("Push-T back", readouts, (x) => x.env === "pusht-v1" && x.running, 10_000);
  assert.ok(await page.locator("canvas[aria-label^='arm-push-v1 in 3-D']").isHidden(), "the 3-D canvas is hidden");
  assert.ok(await page.locator("text=3/4 view").isHidden(), "the view toggle is hidden");
  await writeFigures(site, "web-arm-figures.json");
  assert.equal(site.consoleErrors, [], "no console errors during the whole session");
});

test.run();
