/**
 * Node edge: serves a built site folder with the headers the page needs — cross-origin isolation (COOP/COEP, for
 * ONNX Runtime Web's shared wasm memory) and no caching of a dev build. Files go out through `send` (Express's
 * static-file sender): ranges by RFC 9110 (range-parser: an unsatisfiable or inverted range is 416 with a
 * Content-Range that gives the size, an invalid syntax or several ranges get the whole file), conditional GETs, and
 * no path outside the folder (`..`, also percent-encoded, and dotfiles are 404). A file the build precompressed goes
 * out as its Brotli or gzip variant when the client accepts it. A request that fails inside the handler is a 500
 * (or a dropped connection once headers are out); the server goes on serving.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import send from "send";
import { ScdError } from "../../src/errors.ts";

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

const ISOLATION: Record<string, string> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-cache",
};

/** The types of the files a built site holds, for their compressed variants (send would name the .br or .gz). */
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8", ".map": "application/json; charset=utf-8", ".wasm": "application/wasm",
};

/** A plain-text error answer, or, when the response has begun, a dropped connection (the client sees it cut). */
function fail(res: http.ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.destroy();
  res.statusCode = status;
  res.removeHeader("Content-Encoding"); // the error text is not the compressed variant
  for (const [k, v] of Object.entries({ ...ISOLATION, ...headers })) res.setHeader(k, v);
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end(`${http.STATUS_CODES[status] ?? status}\n`);
}

/**
 * The precompressed variant of `pathname` the client accepts (the build writes `.br` and `.gz` beside the files that
 * shrink), as [encoded pathname, encoding], or null: serve the file itself.
 */
function encodedVariant(root: string, pathname: string, accept: string): [string, string] | null {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname.endsWith("/") ? pathname + "index.html" : pathname);
  } catch {
    return null; // a malformed escape: send answers it
  }
  const file = path.join(root, rel);
  if (!file.startsWith(root + path.sep) || rel.includes("\0")) return null;
  for (const [ext, enc] of [[".br", "br"], [".gz", "gzip"]] as const)
    if (new RegExp(`(^|[\\s,])${enc}(?![\\w-])(?!;q=0(\\.0*)?(\\s|,|$))`).test(accept) && fs.existsSync(file + ext))
      return [(pathname.endsWith("/") ? pathname + "index.html" : pathname) + ext, enc];
  return null;
}

function serveFile(root: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  for (const [k, v] of Object.entries(ISOLATION)) res.setHeader(k, v);
  let pathname = (req.url ?? "/").split("?")[0]; // still percent-encoded: send decodes it once, then checks for ".."
  res.setHeader("Vary", "Accept-Encoding");
  const variant = encodedVariant(root, pathname, String(req.headers["accept-encoding"] ?? ""));
  if (variant) {
    // the original's type (send keeps a Content-Type already set), the variant's bytes
    res.setHeader("Content-Type", TYPES[path.extname(variant[0].slice(0, -3))] ?? "application/octet-stream");
    res.setHeader("Content-Encoding", variant[1]);
    pathname = variant[0];
  }
  send(req, pathname, { root, index: ["index.html"], dotfiles: "ignore", cacheControl: false })
    .on("file", (_file: string, stat: fs.Stats) => {
      // RFC 9110 §14.1.1: a suffix range longer than the file selects the whole file (range-parser says 416)
      const r = req.headers.range;
      if (r && stat.size > 0) req.headers.range = r.replace(/([=,]\s*)-(\d+)/g, (_m, pre: string, n: string) => `${pre}-${Math.min(Number(n), stat.size)}`);
    })
    .on("error", (err: { status?: number; headers?: Record<string, string> }) => {
      // 403 is send's answer to a path that climbs out: say 404, like any other file that is not in the folder
      const status = err.status === 403 ? 404 : err.status ?? 500;
      if (status >= 500) process.stderr.write(`scd web: ${req.method} ${req.url}: ${String((err as Error).message ?? err)}\n`);
      fail(res, status, err.headers);
    })
    .pipe(res);
}

/**
 * Serve the built site in `root` until close().
 * @throws ScdError when `root` has no index.html, or the port cannot be listened on.
 */
export async function serveWeb(root: string, opts: { port?: number; host?: string } = {}): Promise<WebServer> {
  if (!fs.existsSync(`${root}/index.html`)) throw new ScdError(`${root}: no built site (index.html missing); run "npm run build:web" first`);
  const abs = path.resolve(root);
  const server = http.createServer((req, res) => {
    try {
      serveFile(abs, req, res);
    } catch (e) {
      // one bad request must never take the server down
      process.stderr.write(`scd web: ${req.method} ${req.url}: ${(e as Error)?.message ?? e}\n`);
      fail(res, 500);
    }
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new ScdError(`cannot listen on ${host}:${opts.port ?? 8080} (${e.code ?? e.message})`)));
    server.listen(opts.port ?? 8080, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    // all interfaces (0.0.0.0, ::): a browser on this machine opens it through loopback
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host}:${a.port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
