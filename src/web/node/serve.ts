/**
 * Node edge: serves a built site folder (sirv: only files found under the folder are served, so `/../x` and its
 * encoded variants are 404) with the headers the page needs — cross-origin isolation (COOP/COEP, for ONNX Runtime
 * Web's shared wasm memory) and no caching of a dev build.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import sirv from "sirv";
import { ScdError } from "../../errors.ts";

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

export async function serveWeb(root: string, opts: { port?: number; host?: string } = {}): Promise<WebServer> {
  if (!fs.existsSync(`${root}/index.html`)) throw new ScdError(`${root}: no built site (index.html missing); run "npm run build:web" first`);
  const files = sirv(root, {
    dev: false,
    etag: true,
    dotfiles: false,
    setHeaders: (res) => {
      res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
      res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
      res.setHeader("Cache-Control", "no-cache");
    },
  });
  const server = http.createServer((req, res) =>
    files(req, res, () => {
      res.statusCode = 404;
      res.setHeader("Content-Type", "text/plain");
      res.end("not found\n");
    }),
  );
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
