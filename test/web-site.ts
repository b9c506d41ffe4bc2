/**
 * The built site in Debian's Chromium for the browser tests (web.test.ts, web-tfjs.test.ts): build with the shipped
 * checkpoint, serve on a free port, a fresh headless profile, console errors collected; the page's readouts and
 * checks (window.scd); screenshots and figures to $SCD_WEB_ARTIFACTS or a temp dir. Fails (never skips) without
 * Chromium: .ci/run installs it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import "../src/policies/index.ts";
import "../src/policies/onnx.ts";
import { buildWeb, type BuildOptions } from "../apps/web/build.ts";
import { serveWeb, type WebServer } from "../apps/web/serve.ts";

const CHROMIUM = process.env.SCD_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface Readouts {
  env: string; controller: string; phase: "running" | "paused" | "ended"; recording: boolean; step: number; coverage: number | null; reward: number; maxReward: number;
  inferMs: number[]; chunks: number; misses: number; errors: number; boundaryJerk: number | null; recorded: number[]; running: boolean; crossOriginIsolated: boolean;
  runtime: string; runtimeLabel: string; tensors: number | null;
  training: { running: boolean; step: number; steps: number; losses: number[]; stepsPerSec: number; seconds: number | null; backend: string; error: string | null };
}

export interface Site {
  server: WebServer;
  browser: BrowserContext;
  page: Page;
  /** console errors and page errors of `page`, in order */
  consoleErrors: string[];
  artifacts: string;
  /** numbers for the README, written by writeFigures */
  figures: Record<string, unknown>;
  readouts(): Promise<Readouts>;
  text(id: string): Promise<string>;
  close(): Promise<void>;
}

/** Poll `fn` every 100 ms until `ok`; throws naming `what` and the last value after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(v).slice(0, 300)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Build (with `build`'s options, e.g. web-image.test.ts's imageCheckpoint), serve, launch Chromium with the page at the site's root, ready (window.scd.ready). */
export async function openSite(build: BuildOptions = {}): Promise<Site> {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y --no-install-recommends chromium; .ci/run does) or set SCD_CHROMIUM`);
  const artifacts = process.env.SCD_WEB_ARTIFACTS ? path.resolve(process.env.SCD_WEB_ARTIFACTS) : fs.mkdtempSync(path.join(os.tmpdir(), "scd-web-"));
  fs.mkdirSync(artifacts, { recursive: true });
  const figures: Record<string, unknown> = {};
  const t0 = performance.now();
  const b = await buildWeb({ reuseModel: true, ...build });
  figures.buildSeconds = (performance.now() - t0) / 1000;
  figures.bundleMB = b.bundleBytes / 1e6;
  figures.lazyMB = b.lazyBytes / 1e6;
  const server = await serveWeb(b.out, { port: 0 });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "scd-chromium-"));
  // a fresh profile (playwright passes it as --user-data-dir)
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1100, height: 760 }, acceptDownloads: true });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const consoleErrors: string[] = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
  const site: Site = {
    server, browser, page, consoleErrors, artifacts, figures,
    readouts: () => page.evaluate(() => (window as unknown as { scd: { readouts(): Readouts } }).scd.readouts()),
    text: (id: string) => page.locator(`#${id}`).innerText(),
    close: async () => {
      await browser.close();
      await server.close();
      fs.rmSync(profile, { recursive: true, force: true });
      console.log(`  web test artifacts: ${artifacts}`);
    },
  };
  await page.goto(server.url);
  await until("the page to be ready", () => page.evaluate(() => !!(window as unknown as { scd?: { ready: boolean } }).scd?.ready), (v) => v, 60_000);
  return site;
}

/** Write `site.figures` (with the browser and the time) to `file` under the artifacts folder: one file per test file. */
export async function writeFigures(site: Site, file: string): Promise<void> {
  const userAgent = await site.page.evaluate(() => navigator.userAgent);
  fs.writeFileSync(path.join(site.artifacts, file), JSON.stringify({ ...site.figures, userAgent, measuredAt: new Date().toISOString() }, null, 2) + "\n");
}

/**
 * Open the built site before a suite's tests and close it after; `onOpen` gets the site. uvu reports a failing
 * before hook only as "0 passed", so its error is printed first.
 */
export function openSiteAround(suite: { before: (fn: () => Promise<void>) => void; after: (fn: () => Promise<void>) => void }, onOpen: (s: Site) => void, build: BuildOptions = {}): void {
  let site: Site | undefined;
  suite.before(async () => {
    try {
      site = await openSite(build);
      onOpen(site);
    } catch (e) {
      console.error(`web test setup failed: ${(e as Error).stack ?? e}`);
      throw e;
    }
  });
  suite.after(async () => void (await site?.close()));
}
