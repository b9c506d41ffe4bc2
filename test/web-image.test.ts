/**
 * pusht-image-v1 in the page, end to end in Debian's Chromium (web-site.ts), driven by an SCD pixel policy: the env
 * is offered; its ONNX export is not part of the first load and is fetched once when the page switches to it; the
 * policy drives from the 96 × 96 camera frame and the agent position (ONNX Runtime Web) and the agent moves; the
 * camera panel beside the arena holds, pixel for pixel, the frame Node's renderer (renderPushTObservation) draws for
 * the same state, while the policy drives and under the pointer, which takes over as on pusht-v1; Push-T comes back
 * with the panel hidden; no console errors. The checkpoint: $SCD_WEB_IMAGE_CHECKPOINT, else the shipped
 * assets/checkpoints/pusht-image. No success on
 * the task is asked of it. Screenshots and numbers go beside web.test.ts's.
 */
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import "../src/envs/index.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { renderPushTObservation } from "../src/envs/pusht/pixels.ts";
import { ROOT } from "../apps/web/build.ts";
import { openSiteAround, until, writeFigures, type Site } from "./web-site.ts";

const ID = "pusht-image-v1", MODEL = "models/pusht-image-scd/";
const SHIPPED = path.join(ROOT, "assets/checkpoints/pusht-image");
const CKPT = process.env.SCD_WEB_IMAGE_CHECKPOINT ?? SHIPPED;
let site: Site, page: Page;
const readouts = () => site.readouts();
const scd = <T>(fn: string, ...args: unknown[]) => page.evaluate(([f, a]) => (window as unknown as Record<string, Record<string, (...x: unknown[]) => unknown>>).scd[f as string](...(a as unknown[])), [fn, args] as const) as Promise<T>;
/** URLs of the pixel policy's files the page has fetched so far (the resource timeline since it loaded). */
const modelFetches = () => page.evaluate((m) => performance.getEntriesByType("resource").map((e) => e.name).filter((u) => u.includes(m)), MODEL);

openSiteAround(test, (s) => {
  site = s;
  page = s.page;
}, { imageCheckpoint: CKPT });

/**
 * The camera canvas and the env's full state read in one turn of the page (steps and drawing happen together in its
 * frame timer, so they agree), then Node's renderer on that state: bytes that differ, non-white pixels.
 */
async function cameraVsNode(): Promise<{ step: number; state: number[]; differ: number; nonWhite: number }> {
  const got = await page.evaluate(() => {
    const c = document.getElementById("camera-view") as HTMLCanvasElement;
    const w = window as unknown as { scd: { envState(): number[]; readouts(): { step: number } } };
    return { w: c.width, h: c.height, px: Array.from(c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data), state: w.scd.envState(), step: w.scd.readouts().step };
  });
  assert.equal([got.w, got.h], [96, 96], "the camera canvas is the frame's own size");
  const want = renderPushTObservation(got.state, 96);
  let differ = 0, nonWhite = 0;
  for (let p = 0; p < 96 * 96; p++) {
    for (let k = 0; k < 3; k++) if (got.px[4 * p + k] !== want[3 * p + k]) differ++;
    if (got.px[4 * p] < 250 || got.px[4 * p + 1] < 250 || got.px[4 * p + 2] < 250) nonWhite++;
  }
  return { step: got.step, state: got.state, differ, nonWhite };
}

test("pusht-image-v1 is offered; its SCD pixel policy is not in the first load and comes once, on demand, when the page switches to it", async () => {
  assert.ok((await page.locator("#env option").allInnerTexts()).some((t) => t.includes(ID)), "the env select offers pusht-image-v1");
  const list = (await (await fetch(`${site.server.url}load.json`)).json()) as { files: Record<string, number>; onDemand: Record<string, Record<string, number>> };
  assert.ok(!Object.keys(list.files).some((f) => f.startsWith(MODEL)), "the first load lists none of its files");
  const files = Object.keys(list.onDemand[ID] ?? {});
  assert.ok(files.includes(`${MODEL}manifest.json`) && files.filter((f) => f.endsWith(".onnx")).length === 3, `on demand: ${files}`);
  assert.equal(await modelFetches(), [], "nothing of it fetched before pusht-image-v1 is chosen");
  assert.ok(await page.locator("#camera").isHidden(), "no camera panel on pusht-v1");
  const t0 = performance.now();
  await page.selectOption("#env", ID);
  const r = await until("pusht-image-v1 driven by its SCD policy", readouts, (x) => x.env === ID && x.running && x.chunks > 0, 120_000);
  site.figures.imageSwitchSeconds = (performance.now() - t0) / 1000;
  assert.is(r.controller, "policy");
  assert.ok(await page.locator("#loading").isHidden(), "the loading overlay is gone");
  const fetched = await modelFetches();
  assert.equal([...fetched].map((u) => u.slice(u.indexOf(MODEL))).sort(), files.sort(), "each of its files fetched once");
  const offered = await page.locator("#controller option").allInnerTexts();
  assert.equal(offered.length, 1, `controllers offered: ${offered}`);
  assert.match(offered[0], /^SCD policy \(ONNX Runtime Web/);
  assert.ok(await page.locator("#coverage").isVisible(), "coverage is shown, as on pusht-v1");
  site.figures.imageModelBytes = Object.values(list.onDemand[ID]).reduce((a, b) => a + b, 0);
  assert.equal(site.consoleErrors, []);
});

test("the SCD policy drives from the camera frame: the agent moves; the camera panel is the env's renderer pixel for pixel, scaled up as blocks", async () => {
  const seed = 100001;
  await page.selectOption("#speed", "realtime");
  await page.fill("#seed", String(seed));
  await page.click("#reset");
  const env = await makeEnv(ID, {}, { timeLimit: false });
  const start = env.reset({ seed }).info.state as number[];
  env.close();
  const r = await until("30 steps of the SCD pixel policy", readouts, (x) => x.env === ID && (x.step >= 30 || !x.running), 60_000);
  assert.ok(r.step >= 30, `the episode ran 30 steps (${r.step}, running ${r.running})`);
  assert.ok(r.chunks >= 3 && r.errors === 0, `chunks ${r.chunks}, errors ${r.errors}`);
  const seen = await cameraVsNode();
  const moved = Math.hypot(seen.state[0] - start[0], seen.state[1] - start[1]);
  assert.ok(moved > 5, `the agent moved ${moved.toFixed(1)} px from its start (${start.slice(0, 2).map((v) => v.toFixed(1))}) by step ${seen.step}`);
  assert.is(seen.differ, 0, `camera canvas vs renderPushTObservation at step ${seen.step}: ${seen.differ} bytes differ`);
  assert.ok(seen.nonWhite > 500, `the frame shows the scene: ${seen.nonWhite} non-white pixels`);
  // a second look later in the episode: the panel follows the steps
  await until("10 more steps", readouts, (x) => x.step >= seen.step + 10 || !x.running, 30_000);
  const later = await cameraVsNode();
  assert.ok(later.step > seen.step && later.differ === 0, `step ${later.step}: ${later.differ} bytes differ`);
  const box = (await page.locator("#camera-view").boundingBox())!, arena = (await page.locator("#view").boundingBox())!;
  assert.ok(box.width >= 180 && Math.abs(box.width - box.height) < 1, `the camera frame is scaled up: ${box.width} × ${box.height} px`);
  assert.ok(box.x >= arena.x + arena.width && Math.abs(box.y - arena.y) < 2, "the panel sits beside the arena, level with its top");
  assert.is(await page.locator("#camera-view").evaluate((c) => getComputedStyle(c).imageRendering), "pixelated");
  await page.locator(".stage").screenshot({ path: path.join(site.artifacts, "pusht-image-policy.png") });
  const fin = await readouts();
  site.figures.imageScd = { seed, steps: fin.step, chunks: fin.chunks, misses: fin.misses, agentMovedPx: moved, inferMsP50: [...fin.inferMs].sort((a, b) => a - b)[fin.inferMs.length >> 1] };
  assert.equal(site.consoleErrors, []);
});

test("the pointer takes over as on pusht-v1: the agent follows it and the camera shows it there; handing back, the policy drives on", async () => {
  const box = (await page.locator("#view").boundingBox())!;
  const at = (x: number, y: number) => [box.x + (x / 512) * box.width, box.y + (y / 512) * box.height] as const;
  const from = [150, 150], goal = [360, 300];
  await page.mouse.move(...at(from[0], from[1]));
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) {
    await page.mouse.move(...at(from[0] + ((goal[0] - from[0]) * i) / 20, from[1] + ((goal[1] - from[1]) * i) / 20));
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(1500); // held there: the agent settles
  const during = await readouts(), seen = await cameraVsNode();
  assert.is(during.controller, "human");
  assert.is(await site.text("who"), "you (pointer)");
  const d = Math.hypot(seen.state[0] - goal[0], seen.state[1] - goal[1]);
  assert.ok(d < 10, `the agent is ${d.toFixed(1)} px from the pointer`);
  assert.is(seen.differ, 0, `under the pointer, step ${seen.step}: ${seen.differ} bytes differ`);
  await page.locator(".stage").screenshot({ path: path.join(site.artifacts, "pusht-image-takeover.png") });
  await page.mouse.up();
  await page.click("#takeover"); // hand back
  const r = await until("the recording kept and the policy driving", readouts, (x) => x.recorded.length === 1 && x.controller === "policy", 10_000);
  await until("the policy's next chunk", readouts, (x) => x.chunks > 0 && x.step > 3, 30_000);
  assert.ok(r.recorded[0] >= 20, `recorded ${r.recorded[0]} steps`);
  assert.is((await cameraVsNode()).differ, 0);
  assert.equal(site.consoleErrors, []);
});

test("Push-T comes back with the camera panel hidden; no console errors during the whole session", async () => {
  await page.selectOption("#env", "pusht-v1");
  await until("Push-T back", readouts, (x) => x.env === "pusht-v1" && x.running, 10_000);
  assert.ok(await page.locator("#camera").isHidden(), "the camera panel is hidden");
  assert.ok(!(await page.locator(".stage").evaluate((e) => e.classList.contains("with-camera"))), "the arena has its full width back");
  await page.selectOption("#env", ID); // again: the export is kept, nothing fetched twice
  await until("pusht-image-v1 again", readouts, (x) => x.env === ID && x.running, 30_000);
  assert.is((await modelFetches()).length, 4, "the export is fetched once per page");
  await page.selectOption("#env", "pusht-v1");
  await until("Push-T back", readouts, (x) => x.env === "pusht-v1" && x.running, 10_000);
  await writeFigures(site, "web-image-figures.json");
  assert.equal(site.consoleErrors, [], "no console errors during the whole session");
});

test.run();
