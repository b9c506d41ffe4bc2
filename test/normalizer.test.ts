import { test } from "uvu";
import * as assert from "uvu/assert";
import { fitNormalizer, normalize, unnormalize, parseNormSet, computeStats } from "../src/datasets/normalizer.ts";

const x = Float32Array.from([0, 10, 5, 10, 10, 10]); // 3 rows, dim 2; second dim constant

test("min-max maps each dimension to [-1, 1]; constant dims map to 0 without NaN", () => {
  const s = fitNormalizer(x, 2, "minmax");
  const y = normalize(s, x);
  [-1, 0, 0, 0, 1, 0].forEach((v, i) => assert.ok(Math.abs(y[i] - v) < 1e-6, `y[${i}] = ${y[i]}`));
  const back = unnormalize(s, y);
  back.forEach((v, i) => assert.ok(Math.abs(v - x[i]) < 1e-5));
});

test("mean-std standardises and round-trips", () => {
  const s = fitNormalizer(x, 2, "meanstd");
  const y = normalize(s, x);
  const st = computeStats(y, 2);
  assert.ok(Math.abs(st.mean[0]) < 1e-6 && Math.abs(st.std[0] - 1) < 1e-6);
  assert.ok(st.std[1] === 0);
  unnormalize(s, y).forEach((v, i) => assert.ok(Math.abs(v - x[i]) < 1e-4));
});

test("robustness 3: a dimension constant up to float32 jitter (range < 1e-4) is treated as constant", () => {
  // training values 0.04 plus float32 jitter (range ~1e-7); at run time 0.0401 must stay near 0, not ~993
  const train = Float32Array.from({ length: 200 }, (_, i) => 0.04 + (i % 3) * 4e-8);
  for (const mode of ["minmax", "meanstd"] as const) {
    const s = fitNormalizer(train, 1, mode);
    const y = normalize(s, Float32Array.from([0.0401, 0.04]));
    assert.ok(Math.abs(y[0]) < 0.01 && Math.abs(y[1]) < 0.01, `${mode}: 0.0401 → ${y[0]}, 0.04 → ${y[1]}`);
    assert.ok(Math.abs(unnormalize(s, y)[0] - 0.0401) < 1e-6, mode);
  }
  // a real range just above the threshold still spans [-1, 1]
  const y = normalize(fitNormalizer(Float32Array.from([0, 2e-4]), 1, "minmax"), Float32Array.from([0, 2e-4]));
  assert.ok(Math.abs(y[0] + 1) < 1e-3 && Math.abs(y[1] - 1) < 1e-3, `${y}`);
});

test("stats survive JSON and are validated when parsed", () => {
  const s = { action: fitNormalizer(x, 2, "minmax") };
  assert.equal(parseNormSet(JSON.parse(JSON.stringify(s)), "ckpt"), s);
  assert.throws(() => parseNormSet({ action: { mode: "minmax", min: [0] } }, "ckpt.json"), /ckpt.json: invalid normalizer stats: action.max/);
});

test("bad inputs: NaN, wrong dimension", () => {
  assert.throws(() => fitNormalizer(Float32Array.from([1, NaN]), 1, "minmax"), /not finite/);
  assert.throws(() => normalize(fitNormalizer(x, 2, "minmax"), Float32Array.from([1, 2, 3])), /dimension 2 applied to 3/);
});

test.run();
