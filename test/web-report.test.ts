/**
 * npm start's report, made by the real `scd start` (a short budget: 10 episodes per policy, B trained for what is
 * left of 1.5 minutes), then opened in Debian's Chromium at 1024, 1400 and 1920 px and at a phone's width: element
 * boxes measured so nothing runs over the other column or off the page, both parts side by side on a wide screen and
 * stacked on a phone; the charts labelled (seeds, axes, legends that match what is drawn); failures shown beside
 * successes; no internal notes or absolute paths in the checkpoint metadata it writes. Screenshots for the README.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chromium, type Browser, type Page } from "playwright-core";
import { scd } from "./helpers.ts";

const CHROMIUM = process.env.SCD_CHROMIUM ?? "/usr/bin/chromium";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scd-report-"));
const out = path.join(tmp, "start");
const artifacts = process.env.SCD_WEB_ARTIFACTS ? path.resolve(process.env.SCD_WEB_ARTIFACTS) : tmp;
let browser: Browser, page: Page, stderr = "";

test.before(async () => {
  const r = scd(["start", "--minutes", "1.5", "--episodes", "10", "--gifs", "3", "--out", out]);
  stderr = r.stderr;
  assert.is(r.code, 0, r.stderr);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  page = await browser.newPage();
  await page.goto(`file://${path.join(out, "report.html")}`);
});
test.after(async () => {
  await browser?.close();
  console.log(`  report test artifacts: ${artifacts} (run in ${tmp})`);
});

interface Box { x: number; y: number; w: number; h: number }
const box = (sel: string) => page.locator(sel).first().evaluate((e) => {
  const r = e.getBoundingClientRect();
  return { x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height };
}) as Promise<Box>;

/** Elements inside `sel` whose box reaches past its right edge (by more than a pixel), named for the message. */
const overflowing = (sel: string) => page.evaluate((s) => {
  const root = document.querySelector(s)!, edge = root.getBoundingClientRect().right + 1;
  return Array.from(root.querySelectorAll("*")).filter((e) => e.getBoundingClientRect().right > edge && e.getBoundingClientRect().width > 0).map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right - edge)} px`);
}, sel);

for (const [w, h] of [[1024, 768], [1400, 900], [1920, 1080], [390, 844]] as const)
  test(`the report holds at ${w} px: no horizontal scroll, nothing runs over a column, ${w > 600 ? "A and B side by side" : "A above B"}`, async () => {
    await page.setViewportSize({ width: w, height: h });
    const scroll = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(scroll[0] <= scroll[1], `page ${scroll[0]} px wide in a ${scroll[1]} px window`);
    for (const part of ["#part-a", "#part-b"]) assert.equal(await overflowing(part), [], `${part} at ${w} px`);
    const a = await box("#part-a"), b = await box("#part-b");
    if (w > 600) {
      assert.ok(a.x + a.w <= b.x, `A (${a.x}+${a.w}) left of B (${b.x})`);
      assert.is(Math.round(a.y), Math.round(b.y));
    } else assert.ok(a.y + a.h <= b.y, "A above B on a phone");
    // the headline numbers are on the first screen
    const kpi = await box("#part-a .kpis");
    assert.ok(kpi.y + kpi.h <= h, `A's scores at ${kpi.y} px, within the first ${h} px`);
    if (w === 1400 || w === 390) await page.screenshot({ path: path.join(artifacts, w === 1400 ? "report.png" : "report-phone.png"), fullPage: w === 1400 ? false : false });
  });

test("every chart is labelled: seeds under the bars, plain tick numbers, legends naming only what is drawn", async () => {
  const ticks = await page.locator("svg text").allTextContents();
  assert.equal(ticks.filter((t) => /\de[-+]?\d/.test(t)), [], "no exponent tick labels");
  for (const part of ["#part-a", "#part-b"]) {
    const seeds = await page.locator(`${part} svg text.seed`).allTextContents();
    assert.ok(seeds.includes("100000") && seeds.includes("100005") && seeds.includes("100009"), `${part}: seed labels ${seeds}`);
    assert.is(await page.locator(`${part} svg rect[data-seed]`).count(), 10);
    // the loss chart: one legend entry per drawn series (validation only when validation points exist)
    const lossChart = page.locator(`${part} figure.chart`).nth(1);
    const drawn = await lossChart.locator("g[data-series]").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-series")));
    const legend = await lossChart.locator(".legend span").allTextContents();
    assert.equal(legend, drawn, `${part}: the legend names what is drawn`);
  }
  const timeLegend = await page.locator(".wide .legend").innerText();
  assert.match(timeLegend, /A during its training: seeds 100000–100019 \(20 episodes\)/);
  assert.match(timeLegend, /B, trained just now: seeds 100000–100009 \(10 episodes\)/);
  assert.match(await page.locator(".wide .lead").innerText(), /not all 10 test seeds/);
});

test("A's GIFs show its best episodes and a failure, each captioned with its seed and outcome", async () => {
  const caps = await page.locator("#part-a .gif figcaption").allTextContents();
  assert.is(caps.length, 3);
  assert.ok(caps.slice(0, 2).every((c) => /seed \d+ · score 1\.000 · success/.test(c)), caps.join(" | "));
  assert.match(caps[2], /seed \d+ · score \d\.\d{3} · failure/);
  assert.is(await page.locator("#part-a .gif.fail img").count(), 1);
});

test("B's learning rate decays over its time: warm-up sized from the measured speed, the run ends on time with the rate at its floor; no internal notes or absolute paths in what it wrote", () => {
  const rep = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
  const m = /about (\d+) steps \(warm-up (\d+)\), the learning rate decaying over /.exec(stderr);
  assert.ok(m, stderr);
  const [steps, warmup] = [Number(m![1]), Number(m![2])];
  assert.ok(warmup === Math.max(1, Math.round(steps / 10)), `warm-up ${warmup} is the recipe's tenth of ${steps}`);
  assert.ok(rep.fresh.step >= 0.5 * steps, `B trained ${rep.fresh.step} steps where about ${steps} were expected`);
  const metrics = fs.readFileSync(path.join(out, "fresh/metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const last = metrics.at(-1);
  const ck = JSON.parse(fs.readFileSync(path.join(out, "fresh/checkpoint/checkpoint.json"), "utf8"));
  const tc = ck.info.trainConfig;
  assert.is(tc.schedule, "time");
  // the announced end held (the ETA is the clock's), and the cosine reached its floor there
  assert.ok(last.wallSeconds >= 0.95 * tc.maxSeconds && last.wallSeconds <= 1.1 * tc.maxSeconds, `trained ${last.wallSeconds} s of ${tc.maxSeconds}`);
  assert.ok(last.lr <= tc.lr * (tc.minLrFrac + 0.05), `last lr ${last.lr} against the floor ${tc.lr * tc.minLrFrac}`);
  for (const [k, v] of [["dataset", ck.info.trainConfig.dataset], ["out", ck.info.trainConfig.out]]) assert.not.ok(path.isAbsolute(v), `trainConfig.${k} = ${v}`);
  for (const text of [fs.readFileSync(path.join(out, "report.html"), "utf8"), JSON.stringify(rep.shipped)]) assert.not.match(text, /\bnice\b|other sessions|\/work\//);
  assert.is(rep.shipped.machine, "2-core AMD EPYC VM, wasm backend (SIMD, 1 thread)");
});

test.run();
