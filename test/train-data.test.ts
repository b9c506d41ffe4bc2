/** src/train/session.ts prepareTrainData: bad values in the data are named by file, feature, episode, frame and dimension. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../src/datasets/index.ts";
import { loadDataset } from "../src/datasets/load.ts";
import { writeLeRobot } from "../src/datasets/lerobot/write.ts";
import { scd } from "./helpers.ts";
import { writeReachDemos } from "./demos.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-train-data-"));

test("NaN in a LeRobot dataset column: scd train names the folder, the feature, the episode, frame and dimension", async () => {
  await writeReachDemos(path.join(dir, "reach.scdd"), 3);
  const { buffer } = await loadDataset(path.join(dir, "reach.scdd"));
  const e1 = buffer.episodeEnds[0];
  (buffer.data["observation.state"] as Float32Array)[(e1 + 7) * 2 + 1] = NaN; // episode 1, frame 7, dimension 1
  const lr = path.join(dir, "lerobot-nan");
  await writeLeRobot(lr, buffer);
  const r = scd(["train", "--policy", "mlp-bc", "--dataset", lr, "--steps", "1", "--out", path.join(dir, "run")]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr.trim().split("\n").at(-1)!, /^scd: error: .*lerobot-nan: feature "observation\.state" is not finite at episode 1, frame 7, dimension 1: NaN/);
  assert.not.match(r.stderr, /\n\s+at /);
  assert.not.ok(fs.existsSync(path.join(dir, "run", "checkpoint")), "nothing trained");
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
