/** Robustness 9: every valid Zarr v2 layout either reads exactly or is refused by name. Stores written by hand. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readDpZarr } from "../src/datasets/dp-zarr/zarr.ts";
import { scd } from "./helpers.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "scd-zarr-"));
type Layout = { order?: "C" | "F"; dtype?: "<f4" | ">f4" | "<f8" | "<i2"; sep?: "." | "/"; delta?: boolean; filters?: unknown[]; perStep?: number[] };

/** 30 steps (episodes end at 10, 30), chunks of 10 steps; step i, element j holds 2i + 101j (row i = (2i, 101+2i) for [2]). */
function store(name: string, L: Layout): string {
  const dir = path.join(root, name + ".zarr");
  const w = (p: string, d: string | Buffer) => (fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true }), fs.writeFileSync(path.join(dir, p), d));
  w(".zgroup", '{"zarr_format":2}');
  w("meta/episode_ends/.zarray", JSON.stringify({ zarr_format: 2, shape: [2], chunks: [2], dtype: "<i8", compressor: null, fill_value: 0, filters: null, order: "C" }));
  const e = Buffer.alloc(16);
  e.writeBigInt64LE(10n, 0);
  e.writeBigInt64LE(30n, 8);
  w("meta/episode_ends/0", e);
  const dtype = L.dtype ?? "<f4", order = L.order ?? "C", sep = L.sep ?? ".", per = L.perStep ?? [2];
  const filters = L.filters ?? (L.delta ? [{ id: "delta", dtype }] : null);
  const shape = [30, ...per], chunk = [10, ...per], m = per.reduce((a, b) => a * b, 1);
  w("data/action/.zarray", JSON.stringify({ zarr_format: 2, shape, chunks: chunk, dtype, compressor: null, fill_value: 0, filters, order, ...(L.sep ? { dimension_separator: sep } : {}) }));
  const size = dtype === "<f8" ? 8 : dtype === "<i2" ? 2 : 4;
  for (let c = 0; c < 3; c++) {
    const vals = new Float64Array(10 * m);
    for (let r = 0; r < 10; r++)
      for (let j = 0; j < m; j++) {
        // element (r, j...) sits at C offset r*m + j, or F offset j-major with r fastest
        const jIdx = per.length === 1 ? [j] : [Math.floor(j / per[1]), j % per[1]];
        const f = per.length === 1 ? j * 10 + r : r + 10 * (jIdx[0] + per[0] * jIdx[1]);
        vals[order === "C" ? r * m + j : f] = 2 * (c * 10 + r) + 101 * j;
      }
    if (L.delta) for (let k = vals.length - 1; k > 0; k--) vals[k] -= vals[k - 1];
    const b = Buffer.alloc(vals.length * size);
    vals.forEach((v, k) => (size === 8 ? b.writeDoubleLE(v, k * 8) : size === 2 ? b.writeInt16LE(v, k * 2) : dtype === ">f4" ? b.writeFloatBE(v, k * 4) : b.writeFloatLE(v, k * 4)));
    w(`data/action/${[c, ...per.map(() => 0)].join(sep)}`, b);
  }
  return dir;
}

const expected = (m: number) => Array.from({ length: 30 * m }, (_, k) => 2 * Math.floor(k / m) + 101 * (k % m));

test("Fortran order, big-endian, float64, '/' separators, delta filters, rank-3 steps: all read exactly", async () => {
  const cases: [string, Layout][] = [["c", {}], ["fortran", { order: "F" }], ["big-endian", { dtype: ">f4" }], ["f8-fortran", { dtype: "<f8", order: "F" }], ["slash", { sep: "/" }], ["delta", { delta: true }], ["fortran-delta", { order: "F", delta: true }], ["rank3-fortran", { order: "F", perStep: [2, 3] }], ["rank3-c", { perStep: [2, 3] }]];
  for (const [name, L] of cases) {
    const m = (L.perStep ?? [2]).reduce((a, b) => a * b, 1);
    const buf = await readDpZarr(store(name, L));
    assert.equal(Array.from(buf.data.action), expected(m), name);
    assert.equal(buf.schema.action.shape, L.perStep ?? [2], name);
  }
});

test("a layout the reader cannot apply is refused by name (unknown filter, integer dtype)", async () => {
  for (const [name, L, re] of [["unknown-filter", { filters: [{ id: "astype", encode_dtype: "<f2", decode_dtype: "<f4" }] }, /cannot decode data\/action .*astype/], ["int16", { dtype: "<i2" }, /data\/action has dtype int16/]] as const) {
    try {
      await readDpZarr(store(name, L as Layout));
      assert.unreachable(name);
    } catch (e) {
      assert.match((e as Error).message, re, name);
      assert.is((e as Error).name, "ScdError", name);
    }
  }
});

test("scd dataset inspect on the issue's Fortran-order store: min [0, 101], max [58, 159] (real CLI)", () => {
  const r = scd(["dataset", "inspect", path.join(root, "fortran.zarr"), "--json"]);
  assert.is(r.code, 0, r.stderr);
  const a = JSON.parse(r.stdout).features.action;
  assert.equal([a.min, a.max], [[0, 101], [58, 159]]);
});

test.run();
