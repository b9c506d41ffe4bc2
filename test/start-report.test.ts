/**
 * npm start's pieces: where a checkpoint's training time comes from, the schedule sized to the time left, which
 * episodes become GIFs, what a report shows of checkpoint metadata, the charts' ticks and labels, and the page's
 * escaping and inlining; `--skip-train` and bad flags through the real CLI. The whole job's report in Chromium:
 * web-report.test.ts.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { recordedTraining } from "../src/cli/commands/start.ts";
import { sizedSchedule, gifEpisodes, machineLabel, portablePath } from "../src/cli/start-run.ts";
import { linearTicks, logTicks, tickLabel, episodeBars, lineChart } from "../src/cli/report-charts.ts";
import { scd, userError } from "./helpers.ts";
import { Progress, fmtTime } from "../src/util/progress.ts";
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
    title, checkpoint, step: 7, trainSeconds: null, trainSecondsSource: "not recorded", machine: null, details: ["a <b>detail</b>"], config: { dModel: 128 },
    eval: { aggregated: aggregate(per_episode, 1), per_episode, loop: {} as StartPart["eval"]["loop"], files: { gifs: [gif] } },
    best: [{ seed: 100000, kind: "best", max_reward: 0.95, success: true, reproduced: true, gif }], curves: { loss: [[1, 0.5], [2, 0.04]], valLoss: [], score: [], scoreSeeds: null },
  };
}

test("the page names both parts, inlines every GIF, escapes what it quotes, and the summary says which is which", () => {
  const gif = path.join(dir, "a.gif");
  writeGif(gif, [{ width: 4, height: 4, data: new Uint8ClampedArray(48).fill(200) }]);
  const r: StartReport = {
    createdAt: "2026-01-01T00:00:00Z", machine: "2 × CPU", backend: "wasm", runtime: "ONNX Runtime", budgetMinutes: 10, wallSeconds: 90,
    protocol: { env: "pusht-v1", episodes: 2, seedStart: 100000, latencyMs: 0, strategy: "receding", maxSteps: 300 },
    shipped: part("Shipped checkpoint (trained for an unknown time, machine not recorded, step 7)", gif, "ckpt/<script>"),
    fresh: null, freshSkipped: "skipped (--skip-train)", phases: [{ name: "A: evaluation", seconds: 12 }],
  };
  const html = startReportHtml(r);
  assert.match(html, /A\. The shipped checkpoint/);
  assert.match(html, /B\. Trained just now with the recipe<\/h2><p class="note">skipped \(--skip-train\)/);
  assert.ok(html.includes(`src="data:image/gif;base64,${fs.readFileSync(gif).toString("base64")}"`));
  assert.ok(html.includes("ckpt/&lt;script&gt;") && !html.includes("<script>"));
  assert.ok(html.includes("a &lt;b&gt;detail&lt;/b&gt;"));
  assert.match(html, /<b>0\.675<\/b><span>mean score/); // the mean of 0.95 and 0.4
  assert.match(html, /<b>50 %<\/b><span>success \(1 of 2\)/);
  assert.match(html, /training loss/);
  assert.not.match(html, /validation loss/, "no legend entry for a line that is not drawn");
  const s = startSummary({ ...r, fresh: { ...r.shipped, title: "Trained just now for 5.0 min" } }, { html: "o/report.html", json: "o/report.json" });
  assert.match(s, /^A\. SHIPPED: Shipped checkpoint/m);
  assert.match(s, /^B\. TRAINED JUST NOW: Trained just now for 5\.0 min/m);
  assert.match(s, /gif: .*a\.gif {3}\(seed 100000, max reward 0\.950, success\)/);
  assert.match(s, /report: o\/report\.html/);
});

test("B's schedule fits its time: as many steps as the measured rate allows less 15 %, the recipe's warm-up share, --steps caps it", () => {
  const recipe = { steps: 2000, warmup: 200 };
  assert.equal(sizedSchedule(recipe, 500, 1), { steps: 425, warmup: 43 });
  assert.equal(sizedSchedule(recipe, 500, 1, 100), { steps: 100, warmup: 10 });
  assert.equal(sizedSchedule(recipe, 5, 1), { steps: 10, warmup: 1 });
});

test("GIFs: the best episodes and the worst failure (none when every episode succeeds)", () => {
  const ep = (seed: number, r: number) => ({ seed, max_reward: r, success: r > 0.95 });
  const eps = [ep(1, 0.5), ep(2, 1), ep(3, 0.1), ep(4, 1), ep(5, 0.99)];
  assert.equal(gifEpisodes(eps, 3).map((g) => [g.ep.seed, g.kind]), [[2, "best"], [4, "best"], [3, "failure"]]);
  assert.equal(gifEpisodes(eps.filter((e) => e.success), 3).map((g) => g.ep.seed), [2, 4, 5]);
  assert.equal(gifEpisodes(eps, 1).map((g) => g.kind), ["best"]);
  assert.equal(gifEpisodes(eps, 6).filter((g) => g.kind === "failure").map((g) => g.ep.seed), [3, 1]);
});

test("checkpoint metadata as a report shows it: the machine kind without working notes, paths never absolute", () => {
  assert.is(machineLabel("2-core AMD EPYC VM, wasm backend (SIMD, 1 thread), nice -5; the other core ran evaluations"), "2-core AMD EPYC VM, wasm backend (SIMD, 1 thread)");
  assert.is(machineLabel("2 × AMD EPYC 7B13"), "2 × AMD EPYC 7B13");
  assert.is(machineLabel(undefined), null);
  assert.is(portablePath(path.join(process.cwd(), "assets/x.scdd")), "assets/x.scdd");
  assert.is(portablePath("runs/a"), "runs/a");
  const shipped = JSON.parse(fs.readFileSync("assets/checkpoints/scd-pusht/checkpoint.json", "utf8")).info;
  assert.not.ok(path.isAbsolute(shipped.trainConfig.dataset));
  assert.not.match(JSON.stringify(shipped), /\bnice\b|sessions/);
});

test("charts: round ticks, plain numbers on log axes (never 1e-1.5), seeds under the bars, one legend entry per drawn line", () => {
  assert.equal(linearTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(linearTicks(0, 376), [0, 100, 200, 300]);
  assert.equal(logTicks(0.03, 1.3), [0.05, 0.1, 0.2, 0.5, 1]);
  assert.equal([0.05, 0.1, 1, 2000, 0.30000000000000004].map(tickLabel), ["0.05", "0.1", "1", "2,000", "0.3"]);
  const bars = episodeBars(Array.from({ length: 12 }, (_, i) => ({ seed: 100000 + i, score: i / 12, success: i > 9 })), "scores");
  for (const s of [100000, 100005, 100011]) assert.match(bars, new RegExp(`class="seed">${s}<`));
  assert.is(bars.match(/data-seed=/g)?.length, 12);
  const chart = lineChart([{ label: "training loss", points: [[1, 0.9], [2, 0.05]], color: "#000" }], { title: "t", xLabel: "step", yLabel: "loss", logY: true });
  assert.not.match(chart, /1e-/);
  assert.is(chart.match(/<span><i/g)?.length, 1);
});

test("progress lines: no ETA guessed from the first few items, then the mean rate's; times never read 5m60s", () => {
  assert.equal([fmtTime(359.6), fmtTime(61), fmtTime(12.34), fmtTime(3725)], ["6m00s", "1m01s", "12.3s", "1h02m"]);
  const lines: string[] = [], write = process.stderr.write;
  process.stderr.write = ((l: string) => (lines.push(l), true)) as typeof process.stderr.write;
  try {
    const bar = new Progress("eval", 50, true);
    bar.update(1);
    bar.update(50);
  } finally {
    process.stderr.write = write;
  }
  assert.match(lines[0], /1\/50 .* ETA …/);
  assert.match(lines.at(-1)!, /50\/50 .* ETA 0\.0s/);
});

test("npm start --skip-train shows only the shipped checkpoint; bad flags are one clear error", () => {
  const out = path.join(dir, "start-a");
  const r = scd(["start", "--skip-train", "--episodes", "2", "--gifs", "2", "--out", out]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /B\. TRAINED JUST NOW: skipped \(--skip-train\)/);
  assert.match(r.stdout, /^A\. SHIPPED: Shipped checkpoint \(trained for 82\.5 min, step 8000\)$/m);
  const rep = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
  assert.is(rep.fresh, null);
  assert.equal(rep.shipped.eval.per_episode.map((e: { seed: number }) => e.seed), [100000, 100001]);
  assert.is(rep.shipped.checkpoint, "assets/checkpoints/scd-pusht");
  for (const b of rep.shipped.best) assert.ok(b.reproduced && fs.statSync(b.gif).size > 1000);
  assert.not.ok(fs.existsSync(path.join(out, "fresh")));
  const html = fs.readFileSync(path.join(out, "report.html"), "utf8");
  assert.match(html, /skipped \(--skip-train\)/);
  assert.is(html.match(/<img src="data:image\/gif;base64,[A-Za-z0-9+/=]{100,}"/g)?.length, 2);
  assert.not.match(html, /src="(?!data:)/);
  userError(["start", "--minutes", "0"], /flag --minutes of "scd start" must be ≥ 0\.1, got 0/);
  userError(["start", "--runtime", "gpu"], /--runtime must be onnx or tfjs, got "gpu"/);
  userError(["start", "--checkpoint", path.join(dir, "none")], /none: not a checkpoint \(no checkpoint\.json\)/);
});

test.run();
