/** Flags derived from a zod schema (src/cli/schema-flags.ts), and `scd train`'s knobs being exactly TrainConfig's fields. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { z } from "zod";
import { schemaFlags, flagName } from "../src/cli/schema-flags.ts";
import { parseArgs } from "../src/cli/args.ts";
import { TrainConfig } from "../src/train/config.ts";
import { TRAIN_FLAGS, givenTrainConfig, flagOf } from "../src/cli/commands/train.ts";

const S = z.object({
  name: z.string().describe("a name"),
  count: z.number().int().positive().default(3).describe("how many"),
  rate: z.number().min(0).max(1).optional().describe("a share"),
  tags: z.array(z.string()).optional().describe("labels"),
  extra: z.record(z.string(), z.unknown()).default({}).describe("overrides"),
  dry: z.boolean().default(false).describe("only check"),
});

test("types, bounds and help come from the schema; defaults show in the help but are not flag defaults", () => {
  const { flags } = schemaFlags(S);
  assert.equal(Object.keys(flags), ["name", "count", "rate", "tags", "extra", "dry"]);
  assert.equal(flags.count, { type: "int", desc: "how many (default 3)", min: 1 }); // positive int: ≥ 1
  assert.equal(flags.rate, { type: "number", desc: "a share", min: 0, max: 1 });
  assert.is(flags.tags.type, "string");
  assert.is(flags.dry.type, "boolean");
  assert.is(flags.count.default, undefined, "a schema default must not make the flag look given");
});

test("flags map back to config keys: lists split, JSON parsed, absent flags absent", () => {
  const k = schemaFlags(S);
  const { flags } = parseArgs(["--count", "4", "--tags", "a, b", "--extra", '{"x":1}'], k.flags, "t");
  assert.equal(k.toConfig(flags), { count: 4, tags: ["a", "b"], extra: { x: 1 } });
  assert.throws(() => k.toConfig({ extra: "[1]" }), /--extra must be a JSON object, got "\[1\]"/);
  assert.throws(() => parseArgs(["--rate", "2"], k.flags, "t"), /--rate of "scd t" must be ≤ 1, got 2/);
  assert.throws(() => parseArgs(["--count", "0"], k.flags, "t"), /--count of "scd t" must be ≥ 1, got 0/);
  assert.is(k.flagOf("count"), "--count");
  assert.is(k.flagOf("nope"), null);
});

test("a numeric field without a lower bound cannot become a flag (every numeric flag has a minimum)", () => {
  assert.throws(() => schemaFlags(z.object({ n: z.number() })), /config field "n" needs a lower bound/);
});

test("scd train: every TrainConfig field is a flag and every flag but --config/--resume is a field", () => {
  const keys = Object.keys(TrainConfig.shape).map(flagName).sort();
  const flags = Object.keys(TRAIN_FLAGS).filter((f) => f !== "config" && f !== "resume").sort();
  assert.equal(flags, keys);
  assert.equal(givenTrainConfig({ beta2: 0.999, "obs-features": "observation.state", "min-lr-frac": 0 }), { beta2: 0.999, obsFeatures: ["observation.state"], minLrFrac: 0 });
  assert.is(flagOf("emaPower"), "--ema-power");
});

test.run();
