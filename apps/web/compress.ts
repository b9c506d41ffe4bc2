/**
 * Node edge: precompressed variants of a built site's files (`x.br`, `x.gz` beside `x`), which `scd web` sends to
 * clients that accept them. ONNX Runtime's 14 MB wasm goes out as 2.7 MB. A variant is written only where it saves
 * at least 5 % and is kept while it is newer than its file, so rebuilding an unchanged site costs nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";

const EXTS = new Set([".html", ".css", ".js", ".mjs", ".wasm", ".json", ".onnx", ".msgpack", ".scdd", ".map"]);

function* files(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

/** Write or refresh the .br and .gz variants under `root`; drops variants whose file is gone. Returns bytes before and after (the smallest form of each file). */
export function precompress(root: string): { raw: number; sent: number } {
  let raw = 0, sent = 0;
  for (const f of [...files(root)]) {
    const ext = path.extname(f);
    if (ext === ".br" || ext === ".gz") {
      if (!fs.existsSync(f.slice(0, -3))) fs.rmSync(f);
      continue;
    }
    const st = fs.statSync(f);
    raw += st.size;
    if (!EXTS.has(ext) || st.size < 1024) {
      sent += st.size;
      continue;
    }
    let best = st.size;
    for (const [suffix, make] of [
      // Brotli's top quality takes minutes on the 14 MB wasm; quality 9 gets within 15 % of it in seconds
      [".br", (b: Buffer) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: b.length > 1e6 ? 9 : 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length } })],
      [".gz", (b: Buffer) => zlib.gzipSync(b, { level: 9 })],
    ] as const) {
      const v = f + suffix;
      if (fs.existsSync(v) && fs.statSync(v).mtimeMs >= st.mtimeMs) {
        best = Math.min(best, fs.statSync(v).size);
        continue;
      }
      const c = make(fs.readFileSync(f));
      if (c.length <= st.size * 0.95) {
        fs.writeFileSync(v, c);
        best = Math.min(best, c.length);
      } else fs.rmSync(v, { force: true });
    }
    sent += best;
  }
  return { raw, sent };
}
