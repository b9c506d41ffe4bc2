/**
 * The page: Push-T (or reach-obstacle) driven by the SCD policy — in ONNX Runtime Web or TensorFlow.js (runtimes.ts)
 * — through the package's control loop (src/web/live-loop.ts), take over with the pointer, record, download, replay.
 * `window.scd` exposes the readouts, a runtime parity check and a simulator benchmark for the browser test
 * (test/web.test.ts).
 */
import "../../src/envs/index.ts";
import "../../src/policies/scd/onnx.ts";
import { makeEnv, envSpec } from "../../src/envs/registry.ts";
import type { ChunkPolicy } from "../../src/policies/types.ts";
import { expertFor } from "../../src/policies/builtin.ts";
import { initOrtWasm, ORT_WEB_VERSION, type OrtWasm, type OrtWasmFactory } from "../../src/web/ort-wasm.ts";
import { loadWebExport, type WebExport } from "../../src/checkpoints/fetch-export.ts";
import { LiveEnv } from "../../src/web/live-env.ts";
import { LiveRun } from "../../src/web/live-loop.ts";
import { LoopStats } from "../../src/web/stats.ts";
import { PointerPolicy } from "../../src/web/pointer-policy.ts";
import { Recorder } from "../../src/web/recorder.ts";
import { TASKS, type Task } from "./tasks.ts";
import { Runtimes, RUNTIMES, type Runtime } from "./runtimes.ts";
import { seedValue, denoisingSteps, strategy, InputError } from "./inputs.ts";
import { wireTraining } from "./train-ui.ts";
import { wireReplay } from "./replay-ui.ts";
import type { PageTraining } from "./training.ts";
import { drawFrame, drawPaths, showReadouts } from "./view.ts";
import { runtimeParity, simBench } from "./checks.ts";

type Kind = "policy" | "human" | "replay";
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>("view"), ctx = canvas.getContext("2d")!;
let ort: OrtWasm;
const exports: Record<string, WebExport> = {}; // env id → its SCD export (models/index.json)
let env!: LiveEnv, task!: Task, recorder!: Recorder, pointer!: PointerPolicy;
const recorders: Record<string, Recorder> = {}; // per env: switching env keeps each env's recordings
let auto: Record<string, () => ChunkPolicy> = {};
let runtimes!: Runtimes, training!: PageTraining, active: ChunkPolicy | null = null; // the policy of the current run (disposed when replaced)
let run: LiveRun | null = null, kind: Kind = "policy", paused = false;
let stats = new LoopStats();
let paths: [number, number][][] = [];
let wallStart = 0, ticksAtStart = 0, drawnStep = -1;
const rate: number[] = []; // wall times of executed steps (last second)
const status = (s: string) => ($("status").textContent = s);

/** `steps`: denoising steps K for a policy (read before it was made: a refused box value stops nothing). */
function startRun(policy: ChunkPolicy, k: Kind, seed: number, steps?: number): void {
  run?.stop();
  if (active !== policy) active?.dispose?.(); // a tfjs policy's tensors; a no-op for the others
  active = policy;
  kind = k;
  stats = new LoopStats();
  paths = [];
  const spec = envSpec(env.id);
  run = new LiveRun(env, policy, { strategy: strategy(policy.horizon), steps, seed, maxSteps: spec.maxEpisodeSteps ?? 1000 }, {
    onEvent: (e) => {
      stats.add(e);
      if (e.type === "inference" && e.chunk && k === "policy") paths = [...paths.slice(-3), task.path(env.current, e.chunk, policy.actionDim)];
    },
    onStep: (obs, a, _src, t) => {
      if (k === "human") recorder.add(obs, a, t);
      rate.push(performance.now());
    },
    onError: fail,
    onEnd: (why) => {
      if (k === "human") endRecording();
      if (why !== "stopped") status(`episode ended: ${why === "terminated" ? "success" : "step limit"} at step ${env.stats.step} (max reward ${env.stats.maxReward.toFixed(3)}); Reset for another`);
    },
  });
  run.start();
  wallStart = performance.now();
  ticksAtStart = run.ticks;
  $("who").textContent = k === "policy" ? $<HTMLSelectElement>("controller").selectedOptions[0]?.text ?? "policy" : k === "human" ? "you (pointer)" : `replay of episode ${seed}`;
  $("takeover").textContent = k === "human" ? "Hand back" : "Take over";
  $("takeover").classList.toggle("active", k === "human");
}

function policyRun(): void {
  const seed = seedValue(), steps = denoisingSteps(); // both checked before anything stops or a policy is made
  startRun(auto[$<HTMLSelectElement>("controller").value](), "policy", seed, steps);
}

function endRecording(): void {
  const n = recorder.end();
  if (n) status(`recorded an episode of ${n} steps`);
  $("rec-info").textContent = recorder.episodes.length ? `${recorder.episodes.length} episode(s), ${recorder.steps} steps recorded` : "no recording yet";
  $<HTMLButtonElement>("download").disabled = recorder.episodes.length === 0;
  $<HTMLButtonElement>("train").disabled = recorder.episodes.length === 0 && !training.running; // it is also the Stop button
}

function takeOver(): void {
  if (kind === "human") {
    endRecording();
    policyRun();
    return;
  }
  const seed = seedValue();
  if (!run?.running) env.restart(seed); // an ended episode: start a fresh one for the person
  if ($<HTMLInputElement>("record").checked) recorder.begin();
  pointer.setPointer(null);
  startRun(pointer, "human", seed);
  status("you have control: the target follows the pointer");
}

function reset(): void {
  const seed = seedValue(), k = denoisingSteps(); // checked before anything stops
  run?.stop();
  if (kind === "human") endRecording();
  env.restart(seed);
  policyRun();
  drawnStep = -1;
  status(`seed ${seed}: ${$("who").textContent} driving${kind === "policy" && auto.scd ? ` (K = ${k})` : ""}`);
}

/**
 * Switch the SCD policy's runtime. While a policy drives, the shipped SCD policy restarts on the new runtime from the
 * current state (an ended episode restarts); a person's or a replay's run goes on untouched.
 */
async function switchRuntime(rt: Runtime): Promise<void> {
  const sel = $<HTMLSelectElement>("runtime"), restart = kind === "policy", ended = !run?.running;
  let seed: number;
  try {
    seed = seedValue(); // boxes checked before anything stops
    if (restart) denoisingSteps();
  } catch (e) {
    sel.value = runtimes.runtime;
    throw e;
  }
  sel.disabled = true;
  if (restart) {
    run?.stop();
    active?.dispose?.(); // before a tfjs backend switch: its tensors live on the old backend
    active = null;
  }
  try {
    status(rt === "onnx" ? "switching to ONNX Runtime Web…" : `loading TensorFlow.js (${rt.slice(5)}) and the SCD checkpoint…`);
    await runtimes.use(rt, env.id);
  } finally {
    sel.disabled = false;
    sel.value = runtimes.runtime;
    offerControllers();
  }
  if (!restart) {
    status(`SCD policy runtime: ${runtimes.label()} (when a policy drives again)`);
    return;
  }
  if (auto.scd) $<HTMLSelectElement>("controller").value = "scd";
  if (ended) env.restart(seed);
  policyRun();
  status(`${$("who").textContent} driving seed ${seed}`);
}

/** Controller, K or strategy changed: the policy restarts from the current state (boxes checked first). */
function restartPolicy(): void {
  if (kind !== "policy") return;
  policyRun();
  status(`${$("who").textContent} driving (K = ${denoisingSteps()}, ${$<HTMLSelectElement>("strategy").selectedOptions[0].text})`);
}

function offerControllers(): void {
  const sel = $<HTMLSelectElement>("controller"), keep = sel.value;
  sel.innerHTML = Object.keys(auto).map((k) => `<option value="${k}">${k === "scd" ? `SCD policy (${runtimes.label()})` : k === "trained" ? `SCD trained in this page (${runtimes.trainedLabel()})` : "scripted expert"}</option>`).join("");
  if (keep in auto) sel.value = keep;
}

async function switchEnv(id: string): Promise<void> {
  seedValue(); // boxes checked before anything stops
  denoisingSteps();
  run?.stop();
  if (recorder?.recording) endRecording();
  task = TASKS[id];
  env = new LiveEnv(await makeEnv(id, {}, { timeLimit: false }));
  recorder = recorders[id] ??= new Recorder(env.observationSpace, env.actionSpace, id, env.metadata.controlHz);
  pointer = new PointerPolicy(env.actionSpace.shape[0], task.pointerAction);
  auto = {};
  if (runtimes.has(id)) {
    await runtimes.use(runtimes.runtime, id); // the tfjs checkpoint of this env, on first use
    auto.scd = () => runtimes.policy(id);
  }
  if (runtimes.hasTrained(id)) auto.trained = () => runtimes.trainedPolicy(id);
  const expert = await expertFor(id);
  if (expert) auto.expert = expert;
  $("controller").innerHTML = "";
  offerControllers();
  $("coverage").parentElement!.hidden = id !== "pusht-v1";
  endRecording();
  reset();
}

function frame(): void {
  if (run?.running && !paused) {
    if ($<HTMLSelectElement>("speed").value === "fast" && kind !== "human") run.pump(Infinity, 30);
    else {
      const due = Math.floor((performance.now() - wallStart) / run.periodMs) + 1 - (run.ticks - ticksAtStart);
      if (due > 3) wallStart += (due - 3) * run.periodMs; // fell behind (a slow frame): never burst
      if (due > 0) run.pump(Math.min(due, 3));
    }
  }
  const now = performance.now();
  while (rate.length && rate[0] < now - 1000) rate.shift();
  if (env && env.stats.step !== drawnStep) {
    drawnStep = env.stats.step;
    drawFrame(ctx, env.render());
    drawPaths(ctx, task, paths);
  }
  if (env) showReadouts(env.stats, stats, rate.length);
}

function pointerAt(e: PointerEvent): [number, number] {
  const r = canvas.getBoundingClientRect();
  return task.fromPx(((e.clientX - r.left) / r.width) * canvas.width, ((e.clientY - r.top) / r.height) * canvas.height, canvas.width);
}

function wire(): void {
  $("reset").onclick = guard(reset);
  $("runtime").onchange = () => void switchRuntime($<HTMLSelectElement>("runtime").value as Runtime).catch(fail);
  $("env").onchange = () =>
    void switchEnv($<HTMLSelectElement>("env").value).catch((e) => {
      $<HTMLSelectElement>("env").value = env.id;
      fail(e);
    });
  for (const id of ["controller", "k", "strategy"]) $(id).onchange = guard(restartPolicy);
  $("pause").onclick = () => {
    paused = !paused;
    $("pause").textContent = paused ? "Resume" : "Pause";
    $<HTMLButtonElement>("step").disabled = !paused;
    wallStart = performance.now();
    ticksAtStart = run?.ticks ?? 0;
  };
  $("step").onclick = () => run?.pump(1);
  $("takeover").onclick = guard(takeOver);
  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    if (kind !== "human") guard(takeOver)();
    if (kind === "human") pointer.setPointer(pointerAt(e));
  });
  canvas.addEventListener("pointermove", (e) => kind === "human" && pointer.setPointer(pointerAt(e)));
  $("download").onclick = () => {
    const url = URL.createObjectURL(new Blob([recorder.bytes() as BlobPart], { type: "application/octet-stream" }));
    const a = Object.assign(document.createElement("a"), { href: url, download: `${env.id}-recording.scdd` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  wireReplay({ env: () => env, status, fail, replay: (policy, k) => startRun(policy, "replay", k) });
}

/** `fn` as an event handler: an error (a bad box value, say) goes to the status line instead of escaping. */
const guard = (fn: () => unknown) => () => {
  try {
    fn();
  } catch (e) {
    fail(e);
  }
};

function fail(e: unknown): void {
  status(`error: ${(e as Error)?.message ?? e}`);
  if (!(e instanceof InputError)) console.error(e); // a bad value typed into a box is the user's to fix, not a page error
}

async function init(): Promise<void> {
  status("loading ONNX Runtime Web (wasm) and the SCD policy…");
  const wasm = await (await fetch("ort/ort-wasm-simd-threaded.wasm")).arrayBuffer();
  const { default: factory } = (await import(new URL("ort/ort-wasm-simd-threaded.mjs", location.href).href)) as { default: OrtWasmFactory };
  ort = await initOrtWasm(factory, wasm);
  const index = (await (await fetch("models/index.json")).json()) as Record<string, string>;
  for (const [envId, dir] of Object.entries(index)) exports[envId] = await loadWebExport(new URL(`models/${dir}/`, location.href).href, ort);
  runtimes = new Runtimes(exports, index);
  $("runtime").innerHTML = Object.entries(RUNTIMES).map(([k, v]) => `<option value="${k}">${v}</option>`).join("");
  wire();
  training = wireTraining({
    recorder: () => recorder, envId: () => env.id, status, fail,
    onTrained: async (id, meta, weights) => {
      await runtimes.addTrained(id, meta, weights);
      if (env.id !== id) return `choose ${id} to run it`; // offered when its env is chosen again
      auto.trained = () => runtimes.trainedPolicy(id);
      offerControllers();
      if (kind === "human" && run?.running) return `offered as Controller "SCD trained in this page" (you still have control)`;
      $<HTMLSelectElement>("controller").value = "trained";
      reset();
      return "your policy is driving";
    },
  });
  await switchEnv("pusht-v1");
  setInterval(frame, 16);
  (window as unknown as { scd: unknown }).scd = {
    ready: true,
    readouts: () => ({ env: env.id, controller: kind, step: env.stats.step, coverage: env.stats.coverage, reward: env.stats.reward, maxReward: env.stats.maxReward, inferMs: [...stats.inferMs], chunks: stats.chunks, misses: stats.misses, errors: stats.errors, recorded: recorder.episodes.map((e) => e.timestamp.length), running: !!run?.running, crossOriginIsolated, runtime: runtimes.runtime, runtimeLabel: runtimes.label(), tensors: runtimes.tensors(), training: { ...training.state, losses: [...training.state.losses] } }),
    parity: (frames: number, steps: number, seed: number) => runtimeParity(runtimes, frames, steps, seed),
    bench: (n: number) => simBench(env.id, n),
  };
  status(`ready: SCD policy (${exports["pusht-v1"].manifest.source.numParams.toLocaleString("en")} parameters, ONNX Runtime Web ${ORT_WEB_VERSION} wasm) driving seed ${seedValue()}`);
}

init().catch(fail);
