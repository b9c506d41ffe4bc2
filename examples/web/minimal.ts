/**
 * The smallest page with a policy: the shipped Push-T SCD checkpoint on TensorFlow.js (wasm) drives the simulator
 * through the control loop, one 10 Hz tick per timer call, drawn on a canvas. `npm run build:web` bundles it into
 * dist/web/minimal.html (served by `npx scd web`); dist/web also holds the tfjs wasm files and the checkpoint.
 */
import "scd-policy/envs";
import "scd-policy/policies";
import { makeEnv, LiveEnv, LiveRun, useTfjsBackend, loadWebCheckpoint } from "scd-policy/web";

await useTfjsBackend("wasm", new URL("tfjs/", location.href).href); // tfjs-backend-wasm's .wasm files
const ckpt = await loadWebCheckpoint(new URL("checkpoints/pusht-scd/", location.href).href); // checkpoint.json + weights.msgpack
const env = new LiveEnv(await makeEnv("pusht-v1", {}, { timeLimit: false }));
const run = new LiveRun(env, ckpt.policy(), { strategy: { kind: "receding", execute: 8 }, seed: 100000, maxSteps: 300 });
run.start();

const canvas = document.querySelector("canvas")!, ctx = canvas.getContext("2d")!;
const timer = setInterval(() => {
  run.pump(1); // one control tick: observe, maybe a new chunk, one action
  const f = env.render(); // RGB, the simulator's own renderer (512 × 512 for Push-T)
  const img = ctx.createImageData(f.width, f.height);
  for (let i = 0, j = 0; j < f.data.length; i += 4, j += 3) img.data.set([f.data[j], f.data[j + 1], f.data[j + 2], 255], i);
  ctx.putImageData(img, 0, 0);
  document.querySelector("p")!.textContent = `step ${env.stats.step}, coverage ${env.stats.coverage?.toFixed(3)}, max reward ${env.stats.maxReward.toFixed(3)}`;
  if (!run.running) clearInterval(timer);
}, 100);
