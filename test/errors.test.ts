/**
 * ScdError's kinds, each raised by the real code path a user meets (no hand-built errors): tests and programs match
 * on `kind` instead of on message text.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ScdError, type ScdErrorKind } from "../src/errors.ts";
import { envSpec } from "../src/envs/registry.ts";
import { parseArgs } from "../src/cli/args.ts";
import { parseTrainConfig } from "../src/train/config.ts";
import { loadDataset } from "../src/datasets/load.ts";
import { readDataset } from "../src/datasets/native.ts";
import { readCheckpointMeta } from "../src/checkpoints/checkpoint.ts";
import { checkOutput } from "../src/util/outputs.ts";
import { PUSHT_DATASET, SHIPPED_PUSHT } from "../src/assets.ts";
import "../src/envs/index.ts";
import "../src/policies/index.ts";
import "../src/datasets/index.ts";

async function kindOf(fn: () => unknown): Promise<{ kind: ScdErrorKind; message: string }> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, ScdError, `expected an ScdError, got ${(e as Error)?.stack}`);
    return { kind: (e as ScdError).kind, message: (e as ScdError).message };
  }
  throw new Error("no error thrown");
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scd-errors-"));

test("unknown-name: env ids, flags and config keys", async () => {
  assert.is((await kindOf(() => envSpec("pusht-v9"))).kind, "unknown-name");
  assert.is((await kindOf(() => parseArgs(["--stepz", "3"], { steps: { type: "int", min: 1, desc: "" } }, "train"))).kind, "unknown-name");
  assert.is((await kindOf(() => parseTrainConfig({ dataset: "x", out: "y", lrr: 1 }, "cfg"))).kind, "unknown-name");
});

test("bad-value: a flag below its minimum, a config value out of range", async () => {
  assert.is((await kindOf(() => parseArgs(["--steps", "0"], { steps: { type: "int", min: 1, desc: "" } }, "train"))).kind, "bad-value");
  assert.is((await kindOf(() => parseTrainConfig({ dataset: "x", out: "y", valFraction: 0.9 }, "cfg"))).kind, "bad-value");
});

test("missing-file: a dataset or checkpoint that is not there", async () => {
  assert.is((await kindOf(() => loadDataset(path.join(tmp, "nope.scdd")))).kind, "missing-file");
  assert.is((await kindOf(() => readCheckpointMeta(tmp))).kind, "missing-file");
});

test("corrupt-file: a truncated dataset, a checkpoint.json that is not JSON", async () => {
  const cut = path.join(tmp, "cut.scdd");
  fs.writeFileSync(cut, fs.readFileSync(PUSHT_DATASET).subarray(0, 5000));
  assert.is((await kindOf(() => readDataset(cut))).kind, "corrupt-file");
  const ck = path.join(tmp, "ck");
  fs.mkdirSync(ck);
  fs.writeFileSync(path.join(ck, "checkpoint.json"), "{ not json");
  assert.is((await kindOf(() => readCheckpointMeta(ck))).kind, "corrupt-file");
});

test("incompatible: a checkpoint whose layout and normalizers disagree", async () => {
  const ck = path.join(tmp, "ck2");
  fs.cpSync(SHIPPED_PUSHT, ck, { recursive: true });
  const meta = JSON.parse(fs.readFileSync(path.join(ck, "checkpoint.json"), "utf8"));
  meta.layout.frameDim += 1;
  fs.writeFileSync(path.join(ck, "checkpoint.json"), JSON.stringify(meta));
  const e = await kindOf(() => readCheckpointMeta(ck));
  assert.is(e.kind, "incompatible", e.message);
});

test("output-exists: an output that may not be replaced", async () => {
  const f = path.join(tmp, "out.json");
  fs.writeFileSync(f, "{}");
  assert.is((await kindOf(() => checkOutput(f, { flag: "json", kind: "file", force: false }))).kind, "output-exists");
});

test.run();
