/** npm start's report pieces: where a checkpoint's training time comes from, and the page's escaping and inlining. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { recordedTraining } from "../src/cli/commands/start.ts";
import { startReportHtml, startSummary, minutes, type StartPart, type StartReport } from "../src/cli/start-report.ts";
import { aggregate } from "../src/eval/evaluate.ts";
import { writeGif } from "../src/util/image.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-start-report-"));

test("training time: info.trainSeconds first, else the last trainSeconds of a metrics.jsonl in or beside the checkpoint, else unknown", () => {
  const run = path.join(dir, "run"), ckpt = path.join(run, "checkpoint");
  fs.mkdirSync(ckpt, { recursive: true });
  assert.equal(recordedTraining(ckpt, {}), { seconds: null, source: "not recorded in checkpoint.json nor in a metrics.jsonl beside it", metrics: null });
  // a live run's metrics: the torn last line is skipped
  fs.writeFileSync(path.join(run, "metrics.jsonl"), '{"step":1,"loss":0.5,"trainSeconds":1.5}\n{"step":2,"loss":0.4,"trainSeconds":3.25}\n{"step":3,"lo');
  const r = recordedTraining(ckpt, {});
  assert.is(r.seconds, 3.25);
  assert.is(r.metrics, path.join(run, "metrics.jsonl"));
  assert.match(r.source, /trainSeconds in .*run\/metrics\.jsonl/);
  // a metrics file inside the checkpoint directory (a shipped checkpoint) wins over the run's
  fs.writeFileSync(path.join(ckpt, "metrics.jsonl"), '{"step":9,"trainSeconds":600}\n');
  assert.is(recordedTraining(ckpt, {}).seconds, 600);
  assert.is(recordedTraining(ckpt, { trainSeconds: 3120 }).seconds, 3120);
  assert.is(recordedTraining(ckpt, { trainSeconds: 3120 }).source, "checkpoint.json info.trainSeconds");
  assert.is(minutes(3120), "52.0 min");
  assert.is(minutes(null), "unknown");
});

function part(title: string, gif: string, checkpoint: string): StartPart {
  const per_episode = [0.95, 0.4].map((s, i) => ({ episode_ix: i, seed: 100000 + i, max_reward: s, sum_reward: s, success: s > 0.94, steps: 300, misses: 0, fallbacks: 0, final_info: {} }));
  return {
    title, checkpoint, step: 7, trainSeconds: null, trainSecondsSource: "not recorded", machine: null, details: ["a <b>detail</b>"],
    eval: { aggregated: aggregate(per_episode, 1), per_episode, loop: {} as StartPart["eval"]["loop"], files: { gifs: [gif] } },
    best: [{ seed: 100000, max_reward: 0.95, success: true, reproduced: true, gif }], plot: null, lossCurve: null, scoreCurve: null,
  };
}

test("the page names both parts, inlines every GIF, escapes what it quotes, and the summary says which is which", () => {
  const gif = path.join(dir, "a.gif");
  writeGif(gif, [{ width: 4, height: 4, data: new Uint8ClampedArray(48).fill(200) }]);
  const r: StartReport = {
    createdAt: "2026-01-01T00:00:00Z", machine: "2 × CPU", backend: "wasm", budgetMinutes: 10, wallSeconds: 90,
    protocol: { env: "pusht-v1", episodes: 2, seedStart: 100000, latencyMs: 0, strategy: "receding", maxSteps: 300 },
    shipped: part("Shipped checkpoint (trained for an unknown time, machine not recorded, step 7)", gif, "ckpt/<script>"),
    fresh: null, freshSkipped: "skipped (--skip-train)", phases: [{ name: "A: evaluation", seconds: 12 }],
  };
  const html = startReportHtml(r);
  assert.match(html, /A\. The shipped checkpoint/);
  assert.match(html, /B\. Trained just now with the best recipe<\/h2><p class="note">skipped \(--skip-train\)/);
  assert.ok(html.includes(`src="data:image/gif;base64,${fs.readFileSync(gif).toString("base64")}"`));
  assert.ok(html.includes("ckpt/&lt;script&gt;") && !html.includes("<script>"));
  assert.ok(html.includes("a &lt;b&gt;detail&lt;/b&gt;"));
  assert.match(html, /0\.675<\/td>/); // the mean of 0.95 and 0.4
  assert.match(html, /50\.0 % \(1 \/ 2\)/);
  const s = startSummary({ ...r, fresh: { ...r.shipped, title: "Trained just now for 5.0 min" } }, { html: "o/report.html", json: "o/report.json" });
  assert.match(s, /^A\. SHIPPED: Shipped checkpoint/m);
  assert.match(s, /^B\. TRAINED JUST NOW: Trained just now for 5\.0 min/m);
  assert.match(s, /gif: .*a\.gif {3}\(seed 100000, max reward 0\.950, success\)/);
  assert.match(s, /report: o\/report\.html/);
});

test.run();
