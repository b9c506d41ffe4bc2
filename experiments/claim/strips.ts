/**
 * Push-T rollouts side by side, with each policy's predicted chunks drawn: for the seeds a policy fails, where does
 * its plan go wrong? For every seed, one PNG strip (a row per policy, a column every `--every` steps; the chunk
 * predicted last is drawn over the frame: executed part solid, the rest dashed) and, with --gif, per policy a GIF of
 * the whole episode with the same overlay.
 *
 *   npx tsx experiments/claim/strips.ts --policies <dir>[=label],<dir>[=label] --seeds 100026,100027 \
 *   (each <dir> a checkpoint or an ONNX export; exports run on ONNX Runtime, much faster)
 *     [--every 30] [--gif] [--out experiments/claim/results/strips]
 *
 * Episodes run as `scd eval --latency 0` runs them (receding horizon, 8 actions per chunk, the policy's default K),
 * and each strip's row title gives the episode's max reward, which matches the evaluation's per-episode figure.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createCanvas, type Canvas, type SKRSContext2D } from "@napi-rs/canvas";
import { initBackend } from "../../src/backend/index.ts";
import { makeEnv, envSpec } from "../../src/envs/registry.ts";
import { policyFactory } from "../../src/checkpoints/resolve.ts";
import { runEpisodeVirtual, type EpisodeResult } from "../../src/loop/runner.ts";
import { writeGif } from "../../src/util/image.ts";
import type { RgbFrame } from "../../src/spaces.ts";
import "../../src/envs/index.ts";
import "../../src/policies/index.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt?: string) => {
  const i = args.indexOf(`--${name}`);
  if (i >= 0 && args[i + 1]) return args[i + 1];
  if (dflt === undefined) throw new Error(`--${name} is required (see the usage at the top of experiments/claim/strips.ts)`);
  return dflt;
};
const policies = opt("policies").split(",").map((s) => {
  const [dir, label] = s.split("=");
  return { dir, label: label ?? path.basename(path.dirname(dir)) + "/" + path.basename(dir) };
});
const seeds = opt("seeds").split(",").map(Number);
const every = Number(opt("every", "30"));
const out = opt("out", "experiments/claim/results/strips");
const ENV = "pusht-v1";
const THUMB = 160;

/** A frame with the chunk predicted at or before `tick` drawn on it (Push-T actions are agent targets in its 512-px frame). */
function overlay(frame: RgbFrame, r: EpisodeResult, tick: number, size: number): Canvas {
  const c = createCanvas(size, size);
  const ctx = c.getContext("2d");
  const src = createCanvas(frame.width, frame.height);
  const sctx = src.getContext("2d");
  const img = sctx.createImageData(frame.width, frame.height);
  for (let i = 0, j = 0; i < frame.data.length; i += 3, j += 4) {
    img.data[j] = frame.data[i];
    img.data[j + 1] = frame.data[i + 1];
    img.data[j + 2] = frame.data[i + 2];
    img.data[j + 3] = 255;
  }
  sctx.putImageData(img, 0, 0);
  ctx.drawImage(src, 0, 0, size, size);
  const inf = r.events.filter((e) => e.type === "inference" && e.tick <= tick && e.chunk).at(-1) as { tick: number; chunk: Float32Array } | undefined;
  if (inf) drawChunk(ctx, inf.chunk, tick - inf.tick, size / 512);
  return c;
}

function drawChunk(ctx: SKRSContext2D, chunk: Float32Array, done: number, k: number): void {
  const pts: [number, number][] = [];
  for (let i = 0; i + 1 < chunk.length; i += 2) pts.push([chunk[i] * k, chunk[i + 1] * k]);
  const line = (from: number, to: number, dash: number[], color: string) => {
    ctx.setLineDash(dash);
    ctx.strokeStyle = color;
    ctx.lineWidth = Math.max(1.5, 3 * k);
    ctx.beginPath();
    pts.slice(from, to + 1).forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.stroke();
  };
  line(0, Math.min(8, pts.length) - 1, [], "rgba(230,120,0,0.95)"); // the part a receding horizon of 8 executes
  line(Math.min(8, pts.length) - 1, pts.length - 1, [4, 3], "rgba(230,120,0,0.6)");
  ctx.setLineDash([]);
  ctx.fillStyle = "rgba(200,0,160,0.95)";
  const [x, y] = pts[Math.min(done, pts.length - 1)];
  ctx.beginPath();
  ctx.arc(x, y, Math.max(2, 5 * k), 0, 2 * Math.PI);
  ctx.fill();
}

await initBackend("wasm");
fs.mkdirSync(out, { recursive: true });
const spec = envSpec(ENV);
for (const seed of seeds) {
  const rows: { label: string; r: EpisodeResult }[] = [];
  for (const p of policies) {
    const env = await makeEnv(ENV);
    const policy = await (await policyFactory(p.dir, ENV, env.actionSpace))();
    const r = await runEpisodeVirtual(env, policy, seed, { periodMs: 1000 / env.metadata.controlHz, strategy: { kind: "receding", execute: Math.min(8, policy.horizon) }, fallback: env.metadata.fallback ?? "hold", latencyMs: 0 }, { render: true });
    policy.dispose?.();
    env.close();
    rows.push({ label: p.label, r });
    const gif = args.includes("--gif") ? path.join(out, `${seed}-${p.label.replace(/[^\w.-]+/g, "_")}.gif`) : null;
    if (gif) writeGif(gif, r.frames.map((f, i) => rgbOf(overlay(f, r, i, 256))), 10);
    process.stderr.write(`${p.label} seed ${seed}: max reward ${r.maxReward.toFixed(3)} in ${r.steps} steps${gif ? ` → ${gif}` : ""}\n`);
  }
  const cols = Math.ceil((spec.maxEpisodeSteps ?? 300) / every) + 1;
  const W = 150 + cols * THUMB, H = 24 + rows.length * (THUMB + 6);
  const c = createCanvas(W, H);
  const ctx = c.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = "#222";
  ctx.font = "13px sans-serif";
  for (let j = 0; j < cols; j++) ctx.fillText(`step ${j * every}`, 150 + j * THUMB + 4, 16);
  rows.forEach(({ label, r }, i) => {
    const y = 24 + i * (THUMB + 6);
    ctx.fillStyle = "#222";
    ctx.fillText(label, 4, y + 20);
    ctx.fillText(`seed ${seed}`, 4, y + 40);
    ctx.fillText(`max reward ${r.maxReward.toFixed(2)}`, 4, y + 60);
    ctx.fillText(`${r.steps} steps`, 4, y + 80);
    for (let j = 0; j < cols; j++) {
      const step = Math.min(j * every, r.frames.length - 1);
      if (j * every > r.frames.length - 1 + every) break;
      ctx.drawImage(overlay(r.frames[step], r, step, THUMB), 150 + j * THUMB, y);
    }
  });
  const png = path.join(out, `${seed}.png`);
  fs.writeFileSync(png, c.toBuffer("image/png"));
  process.stderr.write(`→ ${png}\n`);
}

function rgbOf(c: Canvas): RgbFrame {
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const rgb = new Uint8ClampedArray((d.length / 4) * 3);
  for (let i = 0, j = 0; i < d.length; i += 4, j += 3) (rgb[j] = d[i]), (rgb[j + 1] = d[i + 1]), (rgb[j + 2] = d[i + 2]);
  return { width: c.width, height: c.height, data: rgb };
}
