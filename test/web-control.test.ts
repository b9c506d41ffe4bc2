/**
 * Who drives the page, in Debian's Chromium (web-site.ts): each case where take-over, pause, hand back, recording
 * and replay used to disagree with the buttons or the status line, driven with real clicks and pointer drags; the
 * first-time hint, errors styled as errors, the readouts beside the arena (1280 × 900) and above the fold on a phone,
 * the loading bar, and the compressed first load.
 */
import * as http from "node:http";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { openSiteAround, until, type Site } from "./web-site.ts";

let site: Site, page: Page;
const readouts = () => site.readouts(), text = (id: string) => site.text(id);
const steps = (n: number) => page.evaluate((k) => (window as unknown as { scd: { step(n: number): void } }).scd.step(k), n);
const at = async (x: number, y: number) => {
  const b = (await page.locator("#view").boundingBox())!;
  return [b.x + (x / 512) * b.width, b.y + (y / 512) * b.height] as const;
};
/** A person's drag on the arena from (x, y), `n` moves 100 ms apart; the pointer stays down unless `release`. */
async function drag(x: number, y: number, n: number, release = true): Promise<void> {
  await page.mouse.move(...(await at(x, y)));
  await page.mouse.down();
  for (let i = 1; i <= n; i++) {
    await page.mouse.move(...(await at(x + 4 * i, y + 3 * i)));
    await page.waitForTimeout(100);
  }
  if (release) await page.mouse.up();
}
async function resetTo(seed: number): Promise<void> {
  await page.mouse.up(); // a drag an earlier failure left pressed would hold the pointer
  await page.fill("#seed", String(seed));
  await page.click("#reset");
  await until("the policy driving", readouts, (r) => r.controller === "policy" && r.phase === "running", 5_000);
}

openSiteAround(test, (s) => ((site = s), (page = s.page)));

test("first load: the loading bar reached the whole load.json, the hint says what to do, the default seed is a clean success", async () => {
  assert.ok(await page.locator("#loading").isHidden());
  assert.match(await page.locator("#loading-bar").evaluate((e) => (e as HTMLElement).style.width), /^100(\.0)?%$/);
  assert.ok(await page.locator("#hint").isVisible());
  assert.match(await text("hint"), /Press and drag on the arena/);
  assert.is(await page.inputValue("#seed"), "100001");
  await page.selectOption("#speed", "fast");
  await page.click("#reset");
  const r = await until("the default episode to end", readouts, (x) => x.phase === "ended", 60_000);
  assert.match(await text("status"), /episode ended: success at step \d+/);
  assert.ok(r.maxReward >= 0.999 && r.step < 200, `seed 100001: max reward ${r.maxReward} at step ${r.step}`);
  await page.selectOption("#speed", "realtime");
});

test("the person's episode ends at the step limit: recorded, the button says Take over again, a press starts a fresh episode (never step 301)", async () => {
  await resetTo(100003);
  await page.click("#pause");
  const s0 = (await readouts()).step; // the person goes on from the policy's step
  await page.click("#takeover");
  assert.ok(await page.locator("#hint").isHidden(), "the hint goes once the person has taken over");
  await page.click("#pause");
  await steps(400);
  const r = await until("the step limit", readouts, (x) => x.phase === "ended", 5_000);
  assert.is(r.step, 300);
  assert.is(r.controller, "human");
  const kept = r.recorded.at(-1)!;
  assert.ok(kept <= 300 - s0 && kept >= 300 - s0 - 3, `kept ${kept} steps of the person's ${300 - s0}`);
  assert.is(await text("takeover"), "Take over");
  assert.match(await text("status"), new RegExp(`your episode ended: step limit at step 300, kept \\(${kept} steps\\)`));
  assert.ok(await page.locator("#rec-badge").isHidden());
  assert.ok(await page.locator("#pause").isDisabled());
  await drag(200, 200, 5, false);
  const again = await readouts();
  assert.equal([again.controller, again.phase, again.recording], ["human", "running", true]);
  assert.ok(again.step < 40, `a fresh episode (step ${again.step}, not on from 300)`);
  await page.mouse.up();
  await page.click("#takeover"); // hand back
  await page.waitForTimeout(1500);
  const back = await readouts();
  assert.equal([back.controller, back.phase], ["policy", "running"]);
  assert.ok(back.step < 300 && back.step > again.step);
});

test("taking over while paused resumes: the status and the arena agree that the person drives", async () => {
  await resetTo(100004);
  await page.click("#pause");
  const paused = await readouts();
  assert.is(paused.phase, "paused");
  await page.click("#takeover");
  assert.match(await text("status"), /^you have control/);
  assert.is(await text("pause"), "Pause");
  await until("steps while the person drives", readouts, (x) => x.step > paused.step + 3 && x.controller === "human", 5_000);
  // the inference readouts describe no policy during a take-over
  assert.equal([await text("infer"), await text("chunks"), await text("misses")], ["–", "–", "–"]);
  assert.ok(await page.locator("#rec-badge").isVisible(), "the recording indicator shows");
  await page.click("#takeover"); // hand back after a few idle steps: kept
  assert.match(await text("status"), /drives on from here; your episode is kept \(\d+ steps\)/);
});

test("hand back with nothing recorded says the policy drives; End & keep, Discard and Discard last do what they say", async () => {
  await resetTo(100005);
  await page.uncheck("#record");
  await page.click("#takeover");
  await page.click("#takeover");
  assert.match(await text("status"), /drives on from here$/);
  assert.not.match(await text("status"), /you have control/);
  assert.is((await readouts()).controller, "policy");
  await page.check("#record");
  const before = (await readouts()).recorded.length;
  await drag(150, 150, 12); // released: End & keep comes before the idle end
  await page.click("#keep");
  const kept = await readouts();
  assert.is(kept.recorded.length, before + 1);
  assert.equal([kept.phase, kept.recording], ["ended", false]);
  assert.match(await text("status"), /kept your episode \(\d+ steps\)/);
  await drag(150, 150, 8);
  assert.ok(await page.locator("#discard").isEnabled());
  await page.click("#discard");
  assert.is((await readouts()).recorded.length, before + 1, "the discarded episode is not kept");
  assert.is(await text("discard"), "Discard last");
  await page.click("#discard");
  assert.is((await readouts()).recorded.length, before);
  assert.match(await text("status"), /discarded the last kept episode/);
});

test("letting go ends the person's episode after 3 s, without the idle time", async () => {
  await resetTo(100006);
  const before = (await readouts()).recorded.length;
  await drag(150, 150, 15);
  const released = await readouts();
  await until("the idle end", readouts, (x) => x.phase === "ended", 6_000);
  const r = await readouts();
  assert.is(r.recorded.length, before + 1);
  const n = r.recorded.at(-1)!;
  assert.ok(n <= released.step + 1 && n >= 10, `kept ${n} steps of ${r.step} (released at step ${released.step})`);
  assert.match(await text("status"), /you let go for 3 s, that time is not kept/);
});

test("a replay stops at the episode's last recorded step, says so, and its timeline scrubs", async () => {
  await page.click("#demos");
  await until("the dataset", () => text("data-info"), (s) => /206 episodes/.test(s), 20_000);
  await page.fill("#episode", "1");
  await page.selectOption("#speed", "fast");
  await page.click("#replay");
  const m = /\((\d+) steps, as recorded\)|all (\d+) recorded steps/.exec(await text("status"));
  assert.ok(m, await text("status"));
  const len = Number(m![1] ?? m![2]);
  const r = await until("the replay to end", readouts, (x) => x.phase === "ended", 30_000);
  assert.is(r.step, len);
  assert.match(await text("status"), new RegExp(`replay finished: all ${len} recorded steps`));
  assert.is(await text("timeline-at"), `${len} / ${len}`);
  assert.equal([await text("infer"), await text("chunks")], ["–", "–"]);
  await page.selectOption("#speed", "realtime");
  await page.locator("#timeline").evaluate((e, v) => {
    (e as HTMLInputElement).value = String(v);
    e.dispatchEvent(new Event("input"));
  }, Math.floor(len / 2));
  await until("a replay from the middle", readouts, (x) => x.controller === "replay" && x.phase === "running", 2_000);
  assert.match(await text("who"), new RegExp(`replay of episode 1 from step ${Math.floor(len / 2)}`));
  await until("the timeline to move on", () => text("timeline-at"), (s) => Number(s.split(" / ")[0]) > Math.floor(len / 2), 3_000);
});

test("an error looks like one: red, marked, one line naming the box and the value", async () => {
  await page.fill("#seed", "-3");
  await page.click("#reset");
  assert.match(await text("status"), /seed must be a whole number from 0 to 4294967295 \(got "-3"\)/);
  assert.ok(await page.locator("#status.error").count());
  const color = await page.locator("#status").evaluate((e) => getComputedStyle(e).color);
  assert.is(color, "rgb(179, 38, 30)");
  await page.fill("#seed", "100001");
  await page.click("#reset");
  assert.is(await page.locator("#status.error").count(), 0);
});

test("layout: the readouts beside the arena at 1280 × 900 and above the fold on a phone, no horizontal scroll", async () => {
  for (const [w, h] of [[1280, 900], [390, 844]] as const) {
    await page.setViewportSize({ width: w, height: h });
    await page.evaluate(() => scrollTo(0, 0));
    const arena = (await page.locator(".arena").boundingBox())!, ro = (await page.locator(".readouts").boundingBox())!, cov = (await page.locator("#coverage").boundingBox())!;
    if (w > 900) assert.ok(ro.x >= arena.x + arena.width && ro.y < arena.y + 50, `readouts beside the arena (${JSON.stringify(ro)})`);
    assert.ok(cov.y + cov.height <= h, `coverage at ${cov.y} px of ${h}`);
    const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(sw <= cw, `${sw} px of content in ${cw}`);
    await page.screenshot({ path: path.join(site.artifacts, w > 900 ? "page.png" : "page-phone.png") });
  }
  await page.setViewportSize({ width: 1100, height: 760 });
  await page.reload();
  await until("the page to be ready again", () => page.evaluate(() => !!(window as unknown as { scd?: { ready: boolean } }).scd?.ready), (v) => v, 60_000);
  assert.ok(await page.locator("#hint").isHidden(), "the hint is shown once");
});

test("the first load goes out compressed: the ORT wasm as Brotli, and load.json names what the bar counts", async () => {
  const u = new URL(site.server.url);
  const get = (p: string, enc: string) => new Promise<http.IncomingMessage>((resolve, reject) => http.get({ host: u.hostname, port: u.port, path: p, headers: { "Accept-Encoding": enc } }, (res) => (res.resume(), resolve(res))).on("error", reject));
  const br = await get("/ort/ort-wasm-simd-threaded.wasm", "gzip, deflate, br");
  assert.equal([br.headers["content-encoding"], br.headers["content-type"], br.headers.vary], ["br", "application/wasm", "Accept-Encoding"]);
  assert.ok(Number(br.headers["content-length"]) < 4e6, `${br.headers["content-length"]} bytes`);
  const plain = await get("/ort/ort-wasm-simd-threaded.wasm", "identity");
  assert.is(plain.headers["content-encoding"], undefined);
  const list = ((await (await fetch(`${site.server.url}load.json`)).json()) as { files: Record<string, number> }).files;
  assert.ok(Object.keys(list).includes("ort/ort-wasm-simd-threaded.wasm") && Object.keys(list).some((f) => f.endsWith(".onnx")));
  assert.equal(site.consoleErrors, []);
});

test.run();
