/**
 * The page: Push-T (or reach-obstacle, or arm-push in 3-D: arm-view.ts, loaded with MuJoCo when chosen, or Push-T from
 * pixels: image-view.ts, its policy loaded when chosen and its camera frame shown beside the arena) driven by the
 * SCD policy — in ONNX Runtime Web or TensorFlow.js (runtimes.ts) — or an env's scripted expert, through the package's
 * control loop (src/web/live-loop.ts); take over with the pointer, record, keep or discard, download, replay. Who
 * drives lives in control.ts's state machine, the runs in drive.ts, the shared state in state.ts; this file loads,
 * switches runtimes and envs, draws frames and wires the controls. `window.scd` exposes the readouts, a runtime parity
 * check and benchmarks for the browser tests (test/web*.test.ts).
 */
import "../../src/envs/index.ts";
import "../../src/policies/scd/onnx.ts";
import { makeEnv } from "../../src/envs/registry.ts";
import { expertFor } from "../../src/policies/builtin.ts";
import { initOrtWasm, ORT_WEB_VERSION, type OrtWasmFactory } from "../../src/web/ort-wasm.ts";
import { loadWebExport, type WebExport } from "../../src/checkpoints/fetch-export.ts";
import { LiveEnv } from "../../src/web/live-env.ts";
import { PointerPolicy } from "../../src/web/pointer-policy.ts";
import { Recorder } from "../../src/web/recorder.ts";
import { TASKS } from "./tasks.ts";
import { Runtimes, RUNTIMES, type Runtime } from "./runtimes.ts";
import { seedValue, denoisingSteps } from "./inputs.ts";
import { wireTraining } from "./train-ui.ts";
import { wireReplay } from "./replay-ui.ts";
import { drawFrame, drawPaths, showReadouts } from "./view.ts";
import { runtimeParity, simBench } from "./checks.ts";
import { trackLoading, type LoadList } from "./loading.ts";
import type { ArmView } from "./arm-view.ts";
import { CameraView, CAMERA_FEATURE, loadExportOnDemand } from "./image-view.ts";
import { S, $, go, status, fail, guard, policyName } from "./state.ts";
import { IDLE_END_MS, startRun, policyRun, finishRecording, showRecordings, takeOver, endEpisode, reset } from "./drive.ts";

const canvas = $<HTMLCanvasElement>("view"), ctx = canvas.getContext("2d")!;
const exports: Record<string, WebExport> = {}; // env id → its SCD export (models/index.json)
const recorders: Record<string, Recorder> = {}; // per env: switching env keeps each env's recordings
let loadList: LoadList = { files: {} };
/** arm-push-v1's 3-D view (three.js), made on first use */
let arm: ArmView | null = null;
/** the frame an image policy observes (pusht-image-v1), beside the arena */
const camera = new CameraView($("camera"), $<HTMLCanvasElement>("camera-view"));

/** ONNX Runtime Web and models/index.json (env id → export folder), kept for the exports loaded on demand */
let ortWeb: Parameters<typeof loadWebExport>[1] | null = null;
let modelDirs: Record<string, string> = {};

/**
 * arm-push-v1 needs MuJoCo's module (11 MB, fetched with the loading bar; the import then finds it cached), the
 * three.js chunk and, when the site has one, its SCD export (models/arm-push-scd).
 */
async function loadArm(): Promise<ArmView> {
  const files = loadList.onDemand?.["arm-push-v1"] ?? {};
  const loading = trackLoading({ files }, (mb) => `loading MuJoCo (WebAssembly) and the 3-D view: ${mb}`);
  const dir = modelDirs["arm-push-v1"];
  try {
    const fetched = Object.keys(files).filter((f) => !f.startsWith("models/"));
    const model = async () => void (dir && !exports["arm-push-v1"] && (exports["arm-push-v1"] = await loadWebExport(new URL(`models/${dir}/`, location.href).href, ortWeb!)));
    const [{ ArmView }] = await Promise.all([import("./arm-view.ts"), model(), ...fetched.map(async (f) => (await fetch(f)).arrayBuffer())]);
    return (arm ??= new ArmView(canvas));
  } finally {
    loading.done();
  }
}

/** Switch the SCD policy's runtime; while a policy drives, it restarts on the new runtime (a person's or a replay's run goes on). */
async function switchRuntime(rt: Runtime): Promise<void> {
  const sel = $<HTMLSelectElement>("runtime"), restart = S.ctl.mode === "policy";
  try {
    seedValue(); // boxes checked before anything stops
    if (restart) denoisingSteps();
  } catch (e) {
    sel.value = S.runtimes.runtime;
    throw e;
  }
  sel.disabled = true;
  if (restart) {
    S.run?.stop();
    S.active?.dispose?.(); // before a tfjs backend switch: its tensors live on the old backend
    S.active = null;
  }
  try {
    status(rt === "onnx" ? "switching to ONNX Runtime Web…" : `loading TensorFlow.js (${rt.slice(5)}) and the SCD checkpoint…`);
    await S.runtimes.use(rt, S.env.id);
  } finally {
    sel.disabled = false;
    sel.value = S.runtimes.runtime;
    offerControllers();
  }
  if (!restart) return status(`SCD policy runtime: ${S.runtimes.label()} (when a policy drives again)`);
  if (S.auto.scd) $<HTMLSelectElement>("controller").value = "scd";
  policyRun(S.ctl.phase === "ended");
  status(`${policyName()} driving seed ${seedValue()}`);
}

/** Controller, K or strategy changed: the policy restarts from the current state (boxes checked first). */
function restartPolicy(): void {
  if (S.ctl.mode !== "policy") return;
  policyRun(S.ctl.phase === "ended");
  status(`${policyName()} driving (K = ${denoisingSteps()}, ${$<HTMLSelectElement>("strategy").selectedOptions[0].text})`);
}

function offerControllers(): void {
  const sel = $<HTMLSelectElement>("controller"), keep = sel.value;
  sel.innerHTML = Object.keys(S.auto).map((k) => `<option value="${k}">${k === "scd" ? `SCD policy (${S.runtimes.label()})` : k === "trained" ? `SCD trained in this page (${S.runtimes.trainedLabel()})` : "scripted expert"}</option>`).join("");
  if (keep in S.auto) sel.value = keep;
}

async function switchEnv(id: string): Promise<void> {
  seedValue(); // boxes checked before anything stops
  denoisingSteps();
  S.run?.stop();
  if (S.recorder?.recording) finishRecording(0);
  const view = id === "arm-push-v1" ? arm ?? (await loadArm()) : null;
  if (id === "pusht-image-v1") await loadExportOnDemand(id, modelDirs[id], loadList, exports, ortWeb!, "the SCD pixel policy (ONNX)");
  const old = S.env;
  S.env = new LiveEnv(await makeEnv(id, {}, { timeLimit: false }));
  old?.close(); // an arm-push env frees its MuJoCo model and data
  S.task = view?.task ?? TASKS[id];
  arm?.show(view ? S.env : null);
  camera.show(S.env.observationSpace[CAMERA_FEATURE]?.shape);
  S.recorder = recorders[id] ??= new Recorder(S.env.observationSpace, S.env.actionSpace, id, S.env.metadata.controlHz);
  S.pointer = new PointerPolicy(S.env.actionSpace.shape[0], S.task.pointerAction);
  S.auto = {};
  if (S.runtimes.has(id)) {
    await S.runtimes.use(S.runtimes.runtime, id); // the tfjs checkpoint of this env, on first use
    S.auto.scd = () => S.runtimes.policy(id);
  }
  if (S.runtimes.hasTrained(id)) S.auto.trained = () => S.runtimes.trainedPolicy(id);
  const expert = await expertFor(id);
  if (expert) S.auto.expert = expert;
  $("controller").innerHTML = "";
  offerControllers();
  $("coverage").parentElement!.hidden = !id.startsWith("pusht-");
  showRecordings();
  reset();
}

function frame(): void {
  if (S.run?.running && S.ctl.phase === "running") {
    if ($<HTMLSelectElement>("speed").value === "fast" && S.ctl.mode !== "human") S.run.pump(Infinity, 30);
    else {
      const due = Math.floor((performance.now() - S.wallStart) / S.run.periodMs) + 1 - (S.run.ticks - S.ticksAtStart);
      if (due > 3) S.wallStart += (due - 3) * S.run.periodMs; // fell behind (a slow frame): never burst
      if (due > 0) S.run.pump(Math.min(due, 3));
    }
  }
  const now = performance.now();
  while (S.rate.length && S.rate[0] < now - 1000) S.rate.shift();
  if (S.env && S.env.stats.step !== S.drawnStep) {
    S.drawnStep = S.env.stats.step;
    if (S.env.id === "arm-push-v1") arm?.draw(S.paths);
    else {
      drawFrame(ctx, S.env.render());
      drawPaths(ctx, S.task, S.paths);
      camera.draw(S.env.current);
    }
  } else if (S.env?.id === "arm-push-v1" && arm?.moved) arm.draw(S.paths); // the camera moved
  if (!S.env) return;
  showReadouts(S.env.stats, S.stats, S.ctl.phase === "running" ? S.rate.length : 0, S.ctl.mode === "policy", S.maxSteps);
  S.replayUi.show(S.ctl.mode === "replay" ? S.env.stats.step : null);
  if (S.ctl.recording) $("rec-steps").textContent = String(S.recorder.openSteps);
}

function pointerAt(e: PointerEvent): [number, number] {
  const r = canvas.getBoundingClientRect();
  return S.task.fromPx(((e.clientX - r.left) / r.width) * canvas.width, ((e.clientY - r.top) / r.height) * canvas.height, canvas.width);
}

function wire(): void {
  $("reset").onclick = guard(reset);
  $("runtime").onchange = () => void switchRuntime($<HTMLSelectElement>("runtime").value as Runtime).catch(fail);
  $("env").onchange = () =>
    void switchEnv($<HTMLSelectElement>("env").value).catch((e) => {
      $<HTMLSelectElement>("env").value = S.env.id;
      fail(e);
    });
  for (const id of ["controller", "k", "strategy"]) $(id).onchange = guard(restartPolicy);
  $("pause").onclick = () => void go({ type: S.ctl.phase === "paused" ? "resume" : "pause" });
  $("step").onclick = () => S.run?.pump(1);
  $("takeover").onclick = guard(takeOver);
  $("keep").onclick = guard(() => endEpisode("keep"));
  $("discard").onclick = guard(() => endEpisode("discard"));
  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    window.clearTimeout(S.idleTimer);
    if (S.ctl.mode !== "human" || S.ctl.phase === "ended") guard(takeOver)();
    else if (S.ctl.phase === "paused") go({ type: "resume" }); // pressing the arena always moves things
    if (S.ctl.mode === "human") S.pointer.setPointer(pointerAt(e));
  });
  canvas.addEventListener("pointermove", (e) => S.ctl.mode === "human" && S.ctl.phase === "running" && e.buttons && S.pointer.setPointer(pointerAt(e)));
  const release = () => {
    if (S.ctl.mode !== "human" || S.ctl.phase === "ended") return;
    S.releasedAt = S.recorder.openSteps;
    window.clearTimeout(S.idleTimer);
    if (S.ctl.recording) S.idleTimer = window.setTimeout(guard(() => S.ctl.mode === "human" && S.ctl.recording && endEpisode("idle")), IDLE_END_MS);
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  $("download").onclick = () => {
    const url = URL.createObjectURL(new Blob([S.recorder.bytes() as BlobPart], { type: "application/octet-stream" }));
    const a = Object.assign(document.createElement("a"), { href: url, download: `${S.env.id}-recording.scdd` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  S.replayUi = wireReplay({ env: () => S.env, status, fail, replay: (policy, k, from, steps) => {
    if (S.ctl.recording) finishRecording(0);
    startRun(policy, "replay", k, undefined, steps);
    go({ type: "replay" });
    $("who").textContent = `replay of episode ${k}${from ? ` from step ${from}` : ""}`;
  } });
}

async function init(): Promise<void> {
  const list = (loadList = (await (await fetch("load.json")).json()) as LoadList);
  const loading = trackLoading(list, (mb) => `loading ONNX Runtime Web and the SCD policy: ${mb}`);
  status("loading ONNX Runtime Web (wasm) and the SCD policy…");
  const wasm = await (await fetch("ort/ort-wasm-simd-threaded.wasm")).arrayBuffer();
  const { default: factory } = (await import(new URL("ort/ort-wasm-simd-threaded.mjs", location.href).href)) as { default: OrtWasmFactory };
  const ort = await initOrtWasm(factory, wasm);
  const index = (modelDirs = (await (await fetch("models/index.json")).json()) as Record<string, string>);
  ortWeb = ort;
  if (!index["pusht-image-v1"]) $("env").querySelector('option[value="pusht-image-v1"]')?.remove(); // no pixel policy in this build
  // an env whose files come on demand (arm-push-v1, pusht-image-v1) loads its export when the page switches to it (loadArm, loadExportOnDemand)
  for (const [envId, dir] of Object.entries(index)) if (!list.onDemand?.[envId]) exports[envId] = await loadWebExport(new URL(`models/${dir}/`, location.href).href, ort);
  loading.done();
  S.runtimes = new Runtimes(exports, index);
  $("runtime").innerHTML = Object.entries(RUNTIMES).map(([k, v]) => `<option value="${k}">${v}</option>`).join("");
  wire();
  S.training = wireTraining({
    recorder: () => S.recorder, envId: () => S.env.id, status, fail,
    onTrained: async (id, meta, weights) => {
      await S.runtimes.addTrained(id, meta, weights);
      if (S.env.id !== id) return `choose ${id} to run it`; // offered when its env is chosen again
      S.auto.trained = () => S.runtimes.trainedPolicy(id);
      offerControllers();
      if (S.ctl.mode === "human" && S.ctl.phase !== "ended") return `offered as Controller "SCD trained in this page" (you still have control)`;
      $<HTMLSelectElement>("controller").value = "trained";
      reset();
      return "your policy is driving";
    },
  });
  await switchEnv("pusht-v1");
  $("hint").hidden = !!localStorage.getItem("scd-hint-seen");
  setInterval(frame, 16);
  (window as unknown as { scd: unknown }).scd = {
    ready: true,
    readouts: () => ({ env: S.env.id, controller: S.ctl.mode, phase: S.ctl.phase, recording: S.ctl.recording, step: S.env.stats.step, coverage: S.env.stats.coverage, reward: S.env.stats.reward, maxReward: S.env.stats.maxReward, inferMs: [...S.stats.inferMs], chunks: S.stats.chunks, misses: S.stats.misses, errors: S.stats.errors, boundaryJerk: S.stats.jerk.ratio, recorded: S.recorder.episodes.map((e) => e.timestamp.length), running: !!S.run?.running, crossOriginIsolated, runtime: S.runtimes.runtime, runtimeLabel: S.runtimes.label(), tensors: S.runtimes.tensors(), training: { ...S.training.state, losses: [...S.training.state.losses] } }),
    parity: (frames: number, steps: number, seed: number) => runtimeParity(S.runtimes, frames, steps, seed),
    bench: (n: number) => simBench(S.env.id, n),
    /** the current observation.state; env coordinates → canvas pixels (the task's projection); the 3-D view's frames/s over `n` draws */
    state: () => Array.from(S.env.current?.["observation.state"] ?? []),
    /** the simulator's own state in full precision (Push-T: getState()), null for an env without one */
    envState: () => ((S.env.inner as { unwrapped?: { getState?(): number[] } }).unwrapped?.getState?.() ?? null),
    toPx: (p: number[]) => S.task.toPx(p, canvas.width),
    armFps: (n: number) => arm?.bench(n) ?? null,
    /** `n` presses of Step (the tests' way to reach a step limit without waiting 30 s); only while paused, as the button */
    step: (n: number) => {
      for (let i = 0; i < n && S.ctl.phase === "paused"; i++) S.run?.pump(1);
    },
  };
  status(`ready: the SCD policy (${exports["pusht-v1"].manifest.source.numParams.toLocaleString("en")} parameters, ONNX Runtime Web ${ORT_WEB_VERSION}) drives seed ${seedValue()}. Press on the arena to take over`);
}

init().catch(fail);
