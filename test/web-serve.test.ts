/**
 * The static server of `scd web` (apps/web/serve.ts) on a loopback port, with raw requests: byte ranges by
 * RFC 9110 §14 (bad ones get 416 or the whole file, never a dead server), nothing served from outside the folder
 * (also percent-encoded), a handler error answered 500 while later requests are still served; then the real
 * `scd web` process survives the ranges that used to kill it.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { serveWeb, type WebServer } from "../apps/web/serve.ts";
import { precompress } from "../apps/web/compress.ts";
import * as zlib from "node:zlib";
import { ROOT } from "./helpers.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scd-serve-"));
const site = path.join(tmp, "site");
const DATA = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
fs.mkdirSync(path.join(site, "ort"), { recursive: true });
fs.writeFileSync(path.join(site, "index.html"), "<!doctype html><title>scd</title>");
fs.writeFileSync(path.join(site, "data.bin"), DATA);
fs.writeFileSync(path.join(site, "ort/x.wasm"), Buffer.from([0, 97, 115, 109]));
fs.writeFileSync(path.join(site, ".secret"), "dotfile");
fs.symlinkSync("loop", path.join(site, "loop")); // stat fails with ELOOP: an error inside the handler
fs.writeFileSync(path.join(tmp, "outside.txt"), "outside the site");
// a built site's precompressed variants (apps/web/compress.ts): the real precompression of a compressible file
const BIG = Buffer.from("wasm ".repeat(4000));
fs.writeFileSync(path.join(site, "ort/big.wasm"), BIG);
fs.writeFileSync(path.join(tmp, "outside.txt.br"), "x");
precompress(site);

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** One raw request (no URL normalization, unlike fetch), its own connection. */
function get(base: string, rawPath: string, headers: Record<string, string> = {}): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    http.get({ host: u.hostname, port: u.port, path: rawPath, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    }).on("error", reject);
  });
}

let server: WebServer;
test.before(async () => void (server = await serveWeb(site, { port: 0 })));
test.after(() => server.close());

test("byte ranges follow RFC 9110: bad ones get 416 with bytes */size or the whole file, good ones exactly their bytes", async () => {
  const at = (range: string) => get(server.url, "/data.bin", { Range: range });
  for (const range of ["bytes=100-50", "bytes=1000-", "bytes=-0", "bytes=99999999999999999999-", "bytes=9007199254740993-9007199254740999"]) {
    const r = await at(range);
    assert.is(r.status, 416, range);
    assert.is(r.headers["content-range"], "bytes */1000", range);
  }
  for (const range of ["bytes=abc", "items=0-5", "bytes=0-1,5-6", "bytes 0-5"]) {
    const r = await at(range);
    assert.is(r.status, 200, range);
    assert.ok(r.body.equals(DATA), `${range}: the whole file`);
  }
  const cases: [string, number, number][] = [["bytes=10-19", 10, 19], ["bytes=0-0", 0, 0], ["bytes=990-", 990, 999], ["bytes=-10", 990, 999], ["bytes=-5000", 0, 999], ["bytes=0-99999999999999999999", 0, 999], ["bytes=500-1999", 500, 999]];
  for (const [range, a, b] of cases) {
    const r = await at(range);
    assert.is(r.status, 206, range);
    assert.is(r.headers["content-range"], `bytes ${a}-${b}/1000`, range);
    assert.ok(r.body.equals(DATA.subarray(a, b + 1)), `${range}: bytes ${a}..${b}`);
  }
  const ok = await get(server.url, "/");
  assert.is(ok.status, 200, "still serving");
  assert.is(ok.headers["cross-origin-opener-policy"], "same-origin");
  assert.is(ok.headers["cross-origin-embedder-policy"], "require-corp");
  assert.is((await get(server.url, "/ort/x.wasm")).headers["content-type"], "application/wasm");
});

test("nothing outside the folder, encoded or not, and no dotfiles", async () => {
  const paths = ["/../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E/outside.txt", "/..%2foutside.txt", "/%2e%2e%2foutside.txt", "/ort/../../outside.txt", "/ort/%2e%2e/%2e%2e/outside.txt", "/..\\outside.txt", "/%5c..%5coutside.txt", "/.secret", "/outside.txt", "/%00", "/%E0%A4%A"];
  for (const p of paths) {
    const r = await get(server.url, p);
    assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
    assert.not.ok(r.body.toString().includes("outside the site") || r.body.toString().includes("dotfile"), p);
  }
});

test("an error inside the handler is a 500, and the next request is served", async () => {
  const r = await get(server.url, "/loop");
  assert.is(r.status, 500);
  assert.is((await get(server.url, "/data.bin")).status, 200);
});

test("precompressed variants go to clients that accept them, with the file's own type; others and errors get plain bytes", async () => {
  assert.ok(fs.existsSync(path.join(site, "ort/big.wasm.br")) && fs.existsSync(path.join(site, "ort/big.wasm.gz")));
  assert.not.ok(fs.existsSync(path.join(site, "ort/x.wasm.br")), "no variant for a file under 1 KB");
  const br = await get(server.url, "/ort/big.wasm", { "Accept-Encoding": "gzip, deflate, br" });
  assert.equal([br.status, br.headers["content-encoding"], br.headers["content-type"], br.headers.vary], [200, "br", "application/wasm", "Accept-Encoding"]);
  assert.ok(zlib.brotliDecompressSync(br.body).equals(BIG));
  assert.ok(br.body.length < BIG.length / 10);
  const gz = await get(server.url, "/ort/big.wasm", { "Accept-Encoding": "gzip" });
  assert.equal([gz.headers["content-encoding"], zlib.gunzipSync(gz.body).equals(BIG)], ["gzip", true]);
  for (const enc of ["identity", "br;q=0", ""]) {
    const plain = await get(server.url, "/ort/big.wasm", { "Accept-Encoding": enc });
    assert.equal([plain.headers["content-encoding"], plain.body.equals(BIG)], [undefined, true], enc);
  }
  const bad = await get(server.url, "/ort/big.wasm", { "Accept-Encoding": "br", Range: "bytes=999999-" });
  assert.equal([bad.status, bad.headers["content-encoding"]], [416, undefined]);
  assert.is((await get(server.url, "/%2e%2e/outside.txt", { "Accept-Encoding": "br" })).status, 404);
});

test("scd web survives Range: bytes=100-50 and an end above 2^53, and answers the next request", async () => {
  const p = spawn(process.execPath, [path.join(ROOT, "bin/scd.js"), "web", "--dir", site, "--port", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  p.stderr.on("data", (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    p.stdout.on("data", (d) => ((out += d), /at (http:\S+)/.test(out) && resolve(/at (http:\S+)/.exec(out)![1])));
    p.on("exit", (code) => reject(new Error(`scd web exited ${code}: ${stderr}`)));
  });
  try {
    assert.is((await get(url, "/data.bin", { Range: "bytes=100-50" })).status, 416);
    assert.is((await get(url, "/data.bin", { Range: "bytes=0-18446744073709551615" })).status, 206);
    assert.is((await get(url, "/%2e%2e/outside.txt")).status, 404);
    const ok = await get(url, "/");
    assert.is(ok.status, 200);
    assert.is(p.exitCode, null, `still running: ${stderr}`);
  } finally {
    p.kill("SIGTERM");
  }
  assert.is(await new Promise((r) => p.on("exit", r)), 0);
});

test.run();
