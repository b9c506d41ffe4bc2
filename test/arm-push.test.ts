/**
 * arm-push-v1 (MuJoCo wasm): the Gymnasium contract, the Panda's kinematics against Franka's DH table, the IK
 * controller, the task's numbers, the scripted expert (success and both ways round), rendering, bad input,
 * simulation faults, memory over many resets and envs, the CLI, and Node–Chromium parity.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../src/envs/index.ts";
import { makeEnv, envIds } from "../src/envs/registry.ts";
import { checkEnv } from "../src/envs/check.ts";
import { Wrapper } from "../src/envs/wrappers.ts";
import { ScdError } from "../src/errors.ts";
import { builtinPolicy } from "../src/policies/builtin.ts";
import { rollout } from "../src/eval/rollout.ts";
import { runEpisodeVirtual } from "../src/loop/runner.ts";
import { summarizeLoop } from "../src/loop/metrics.ts";
import { writeGif } from "../src/util/image.ts";
import type { Env } from "../src/envs/types.ts";
import { ArmPushEnv } from "../src/envs/arm-push/arm-push.ts";
import { heapBytes, loadMujoco } from "../src/envs/arm-push/mujoco.ts";
import { PANDA_DH, Q_MIN, Q_MAX, Q_READY, TOOL_LENGTH, armPushMjcf } from "../src/envs/arm-push/panda.ts";
import { jacobian, rotationError } from "../src/envs/arm-push/controller.ts";
import { TARGET, TIP_Z, cornerDistance, coverage, foldYaw, rewardAt, SUCCESS_DISTANCE } from "../src/envs/arm-push/task.ts";
import { Rng } from "../src/util/rng.ts";
import { scd, ROOT } from "./helpers.ts";
import * as http from "node:http";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const ID = "arm-push-v1", raw = (e: Env) => (e instanceof Wrapper ? e.unwrapped : e) as ArmPushEnv;
const state = (o: Record<string, Float32Array>) => o["observation.state"];
function throwsScd(fn: () => unknown, re: RegExp, kind?: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ScdError, String(e));
    assert.match((e as Error).message, re);
    assert.ok(!kind || (e as ScdError).kind === kind, `kind ${(e as ScdError).kind}`);
    return void assert.not.match((e as Error).message, /\n/, "one line");
  }
  assert.unreachable(`expected an ScdError matching ${re}`);
}

/** Franka's DH table multiplied out (Craig's convention), independently of the MJCF: flange position and z axis. */
function dhFlange(q: number[]): { p: number[]; z: number[] } {
  let T = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  const mul = (A: number[], B: number[]) => A.map((_, k) => [0, 1, 2, 3].reduce((s, j) => s + A[4 * Math.floor(k / 4) + j] * B[4 * j + (k % 4)], 0));
  PANDA_DH.forEach((r, i) => {
    const th = i < 7 ? q[i] : 0, ca = Math.cos(r.alpha), sa = Math.sin(r.alpha), ct = Math.cos(th), st = Math.sin(th);
    T = mul(T, [ct, -st, 0, r.a, st * ca, ct * ca, -sa, -sa * r.d, st * sa, ct * sa, ca, ca * r.d, 0, 0, 0, 1]);
  });
  return { p: [T[3], T[7], T[11]], z: [T[2], T[6], T[10]] };
}

test("arm-push-v1 is registered with its expert and passes checkEnv in both control modes", async () => {
  assert.ok(envIds().includes(ID));
  const env = await makeEnv(ID);
  checkEnv(env, { steps: 30 });
  assert.equal(env.actionSpace.shape, [2]);
  assert.equal(env.observationSpace["observation.state"].shape, [14]);
  assert.is(env.metadata.controlHz, 10);
  assert.is(env.metadata.maxEpisodeSteps, 200);
  const joint = await makeEnv(ID, { control: "joint" });
  checkEnv(joint, { steps: 10 });
  assert.equal(joint.actionSpace.low, Q_MIN);
  assert.equal(joint.metadata.holdFrom, { feature: "observation.state", offset: 0 });
  joint.reset({ seed: 0 });
  const goal = [0.3, 0.5, -0.2, -2.0, 0.1, 2.6, 0.5];
  let q: Float32Array = new Float32Array(7);
  for (let t = 0; t < 30; t++) q = state(joint.step(goal).obs).slice(0, 7);
  assert.ok(q.every((v, j) => Math.abs(v - goal[j]) < 0.01), `joint targets reached: ${q}`);
  env.close();
  joint.close();
});

test("the Panda's kinematics and joint limits are Franka's published ones", async () => {
  const env = raw(await makeEnv(ID));
  const { model, data, mujoco } = env.simulation();
  const range = model.jnt_range as Float64Array;
  for (let j = 0; j < 7; j++) assert.equal([range[2 * j], range[2 * j + 1]], [Q_MIN[j], Q_MAX[j]], `joint ${j + 1} range`);
  const rng = new Rng(3), tip = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE.value, "tip");
  for (let k = 0; k < 20; k++) {
    const q = Q_MIN.map((lo, j) => lo + rng.next() * (Q_MAX[j] - lo));
    data.qpos.set(q, 0);
    mujoco.mj_kinematics(model, data);
    const { p, z } = dhFlange(q), want = p.map((v, i) => v + TOOL_LENGTH * z[i]);
    const got = Array.from((data.site_xpos as Float64Array).subarray(3 * tip, 3 * tip + 3));
    assert.ok(Math.hypot(...got.map((v, i) => v - want[i])) < 1e-9, `q = ${q}: MuJoCo tip ${got}, DH ${want}`);
  }
  env.close();
});

test("the controller's Jacobian matches finite differences, and the IK tracks targets across the workspace, tool down", async () => {
  const env = raw(await makeEnv(ID));
  const { model, data, mujoco } = env.simulation();
  const tip = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE.value, "tip");
  const read = () => ({ q: Float64Array.from(data.qpos.subarray(0, 7)), anchors: Float64Array.from(data.xanchor.subarray(0, 21)), axes: Float64Array.from(data.xaxis.subarray(0, 21)), tip: Float64Array.from(data.site_xpos.subarray(3 * tip, 3 * tip + 3)), rot: Float64Array.from(data.site_xmat.subarray(9 * tip, 9 * tip + 9)) });
  data.qpos.set(Q_READY, 0);
  mujoco.mj_kinematics(model, data);
  const k0 = read(), J = jacobian(k0), h = 1e-6;
  for (let j = 0; j < 7; j++) {
    data.qpos.set(Q_READY, 0);
    data.qpos[j] += h;
    mujoco.mj_kinematics(model, data);
    const k1 = read();
    for (let r = 0; r < 3; r++) assert.ok(Math.abs((k1.tip[r] - k0.tip[r]) / h - J[r * 7 + j]) < 1e-5, `dp/dq J[${r}][${j}]`);
    const w = rotationError(k0.rot, k1.rot); // small rotation from q to q + h e_j: the angular column times h
    for (let r = 0; r < 3; r++) assert.ok(Math.abs(w[r] / h - J[(3 + r) * 7 + j]) < 1e-5, `dω/dq J[${3 + r}][${j}]`);
  }
  env.reset({ seed: 0, options: { block: [0.5, 0.6, 0] } }); // the block out of the way
  for (const target of [[0.3, -0.3], [0.7, 0.3], [0.5, 0], [0.7, -0.3], [0.3, 0.3]]) {
    let s: Float32Array = new Float32Array(14);
    for (let t = 0; t < 30; t++) s = state(env.step(target).obs);
    assert.ok(Math.hypot(s[7] - target[0], s[8] - target[1], s[9] - TIP_Z) < 0.004, `tip ${s.slice(7, 10)} for target ${target}`);
    const r = data.site_xmat.subarray(9 * tip, 9 * tip + 9);
    assert.ok(r[8] < -0.999, `tool z axis points down (z·z = ${r[8]})`);
  }
  env.close();
});

test("task numbers: corner distance, quarter-turn symmetry, reward, coverage", () => {
  assert.is(cornerDistance(...TARGET), 0);
  assert.ok(Math.abs(cornerDistance(TARGET[0] + 0.01, TARGET[1], TARGET[2]) - 0.01) < 1e-12);
  for (const q of [-1, 1, 2]) assert.ok(cornerDistance(TARGET[0], TARGET[1], TARGET[2] + (q * Math.PI) / 2) < 1e-12, "a quarter turn looks the same");
  assert.ok(Math.abs(foldYaw(Math.PI / 2 + 0.1) - 0.1) < 1e-12 && Math.abs(foldYaw(-0.9) - (Math.PI / 2 - 0.9)) < 1e-12);
  assert.is(rewardAt(0), 1);
  assert.is(rewardAt(SUCCESS_DISTANCE), 1);
  assert.is(rewardAt(0.2), 0);
  assert.ok(Math.abs(coverage(TARGET[0] + 0.03, TARGET[1], 0) - 0.5) < 1e-9);
});

test("the scripted expert succeeds on ≥ 95 % of seeded resets and goes round the block both ways", async () => {
  const env = await makeEnv(ID);
  const expert = await builtinPolicy("expert", ID, env.actionSpace);
  let ok = 0, above = 0, below = 0;
  const N = 40;
  for (let seed = 1000; seed < 1000 + N; seed++) {
    const r = await rollout(env, expert, seed);
    if (r.success) ok++;
    // the way round: which side of the block the tip passes as it first goes beyond the block's x
    const s = r.episode["observation.state"] as Float32Array;
    for (let t = 0; t < r.steps; t++) {
      if (s[14 * t + 7] > s[14 * t + 10]) {
        if (s[14 * t + 8] > s[14 * t + 11]) above++;
        else below++;
        break;
      }
    }
  }
  assert.ok(ok >= 0.95 * N, `expert success ${ok}/${N}`);
  assert.ok(above >= 0.25 * N && below >= 0.25 * N, `passes above ${above}, below ${below} of ${N}`);
  env.close();
});

test("render draws the arm, block and target; a rollout GIF is written", async () => {
  const env = await makeEnv(ID, { renderSize: 96 });
  env.reset({ seed: 0 });
  const f = env.render();
  assert.is(f.width, 96);
  assert.is(f.data.length, 96 * 96 * 3);
  const colours = new Set<number>();
  for (let i = 0; i < f.data.length; i += 3) colours.add((f.data[i] << 16) | (f.data[i + 1] << 8) | f.data[i + 2]);
  assert.ok(colours.size > 8, `${colours.size} colours`);
  assert.ok(colours.has((144 << 16) | (238 << 8) | 144), "the target square (light green) is visible");
  const frames = [f, ...[0, 1, 2].map(() => (env.step([0.5, 0.1]), env.render()))];
  assert.ok(frames[3].data.some((v, i) => v !== f.data[i]), "the arm moved");
  const gif = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "arm-push-")), "a.gif");
  writeGif(gif, frames);
  assert.is(fs.readFileSync(gif).subarray(0, 6).toString(), "GIF89a");
  env.close();
});

test("bad input: an invalid MJCF, a scene without the names, bad options and actions, a closed env: one-line ScdErrors", async () => {
  const make = (o: Record<string, unknown>) => () => new ArmPushEnv(o);
  await makeEnv(ID); // loads MuJoCo
  throwsScd(make({ mjcf: "<mujoco><worldbody>" }), /arm-push-v1 \(options\.mjcf\): MuJoCo could not load the model: XML parse error/, "corrupt-file");
  throwsScd(make({ mjcf: "<mujoco><worldbody><body><joint type='spiral'/></body></worldbody></mujoco>" }), /invalid keyword: 'spiral'/, "corrupt-file");
  throwsScd(make({ mjcf: armPushMjcf().replace('name="tip" pos', 'name="nib" pos') }), /missing: site tip/, "incompatible");
  throwsScd(make({ mjcf: 42 }), /options\.mjcf must be MJCF text \(a string\), got number/);
  throwsScd(make({ control: "torque" }), /control must be "ee" or "joint", got "torque"/);
  throwsScd(make({ renderSize: 0 }), /renderSize must be an integer/);
  const env = new ArmPushEnv();
  env.reset({ seed: 1 });
  throwsScd(() => env.step([0.5]), /action must have 2 values/);
  throwsScd(() => env.step([0.5, NaN]), /action\[1\] is NaN/);
  throwsScd(() => env.step([Infinity, 0]), /action\[0\] is Infinity/);
  throwsScd(() => env.step([500, 0]), /action\[0\] = 500 is far outside \[0\.3, 0\.7\] \(metres\)/);
  const s = state(env.step([0.75, -0.31]).obs); // slightly out of range: clamped to the workspace
  assert.ok(s.every(Number.isFinite));
  throwsScd(() => env.reset({ options: { block: [0.5, "x", 0] as unknown as number[] } }), /options\.block must be \[x, y, yaw\]/);
  env.close();
  env.close(); // idempotent
  throwsScd(() => env.step([0.5, 0]), /the env is closed/);
  throwsScd(() => env.reset(), /the env is closed/);
});

test("a simulation that goes unstable is restored and truncated with info.simError; the env carries on", async () => {
  const env = raw(await makeEnv(ID));
  env.reset({ seed: 2 });
  env.simulation().data.qvel[8] = 1e12; // on the first step (MuJoCo's clock restarts from 0 there too)
  const first = env.step([0.5, 0.1]);
  assert.ok(first.truncated, "a fault on the first step is caught");
  assert.match(String(first.info.simError), /bad qvel ×1: WARNING: Nan, Inf or huge value in QVEL/);
  for (let t = 0; t < 3; t++) env.step([0.5, 0.1]);
  const before = Array.from(state(env.step([0.5, 0.1]).obs));
  const { data } = env.simulation();
  data.qvel[8] = 1e12; // the block flung: MuJoCo finds a bad acceleration and resets its data
  const r = env.step([0.5, 0.1]);
  assert.ok(r.truncated && !r.terminated);
  assert.match(String(r.info.simError), /MuJoCo: the simulation went unstable .*restored the last good state/);
  assert.ok(state(r.obs).every(Number.isFinite));
  assert.ok(Math.max(...Array.from(state(r.obs)).map((v, i) => Math.abs(v - before[i]))) < 1e-6, "back at the last good state");
  env.simulation().data.qpos[10] = NaN; // a non-finite state
  const r2 = env.step([0.5, 0.1]);
  assert.ok(r2.truncated && typeof r2.info.simError === "string");
  assert.ok(state(r2.obs).every(Number.isFinite));
  const r3 = env.step([0.5, 0.1]);
  assert.not.ok(r3.truncated, "the next step runs normally");
  assert.ok(state(env.reset({ seed: 2 }).obs).every(Number.isFinite));
  env.close();
});

test("inside the control loop a simulator fault is an error event naming MuJoCo's warning, and the episode ends truncated", async () => {
  const env = await makeEnv(ID);
  const expert = await builtinPolicy("expert", ID, env.actionSpace);
  const step = env.step.bind(env);
  let n = 0;
  env.step = (a) => {
    if (++n === 12) raw(env).simulation().data.qvel[8] = 1e12; // the block flung at the 12th step
    return step(a);
  };
  const r = await runEpisodeVirtual(env, expert, 3, { periodMs: 100, strategy: { kind: "receding", execute: 1 }, fallback: "hold", latencyMs: 0 });
  assert.is(r.steps, 12, "the episode ends at the faulty step");
  assert.not.ok(r.success);
  const errors = r.events.filter((e) => e.type === "error");
  assert.is(errors.length, 1);
  assert.match((errors[0] as { reason: string }).reason, /^simulator: MuJoCo: the simulation went unstable/);
  const s = summarizeLoop(r.events);
  assert.is(s.errors, 1);
  assert.match(String(s.firstError), /^simulator: /);
  env.close();
});

test("memory: the wasm heap stays flat over 1,000 resets, 30 envs made and closed, and 500 repeats of a refused MJCF", async () => {
  const env = raw(await makeEnv(ID));
  env.reset({ seed: 0 });
  const h0 = heapBytes(env.simulation().data);
  for (let i = 0; i < 1000; i++) {
    env.reset(i % 2 ? {} : { seed: i });
    if (i % 100 === 0) env.step([0.5, 0]);
  }
  assert.is(heapBytes(env.simulation().data), h0, "1,000 resets");
  env.close();
  const probe = new ArmPushEnv();
  const h1 = heapBytes(probe.simulation().data);
  probe.close();
  for (let i = 0; i < 30; i++) {
    const e = new ArmPushEnv();
    e.reset({ seed: i });
    e.step([0.45, 0]);
    e.close();
  }
  const last = new ArmPushEnv();
  assert.is(heapBytes(last.simulation().data), h1, "30 envs made and closed: every MjData and MjModel freed");
  const bad = "<mujoco><worldbody><body><joint type='helix'/></body></worldbody></mujoco>";
  throwsScd(() => new ArmPushEnv({ mjcf: bad }), /invalid keyword: 'helix'/);
  const h2 = heapBytes(last.simulation().data);
  for (let i = 0; i < 500; i++) throwsScd(() => new ArmPushEnv({ mjcf: bad }), /invalid keyword: 'helix'/);
  assert.is(heapBytes(last.simulation().data), h2, "a refused MJCF is refused again without reaching MuJoCo (whose exception path leaks)");
  last.close();
});

test("without mujoco-js installed, making arm-push-v1 fails in one line naming the install command (real CLI)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "arm-push-"));
  // a resolve hook that hides the package, as in a project that did not install the optional peer
  fs.writeFileSync(path.join(dir, "hide.mjs"), `export async function resolve(s, c, next) { if (s === "mujoco-js") { const e = new Error("Cannot find package 'mujoco-js' imported from " + c.parentURL); e.code = "ERR_MODULE_NOT_FOUND"; throw e; } return next(s, c); }\n`);
  fs.writeFileSync(path.join(dir, "register.mjs"), `import { register } from "node:module";\nregister("./hide.mjs", import.meta.url);\n`);
  const r = scd(["env", "reset", ID, "--seed", "0"], { NODE_OPTIONS: `--import ${path.join(dir, "register.mjs")}` });
  assert.is(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split("\n"), ["scd: error: the MuJoCo envs need mujoco-js 0.0.7 (an optional peer dependency of scd-policy, not installed): npm install mujoco-js@0.0.7"]);
  assert.ok(scd(["env", "list"], { NODE_OPTIONS: `--import ${path.join(dir, "register.mjs")}` }).stdout.includes(ID), "listed without loading it");
});

test("the same seed and actions give the same trajectory and frame in Node and in Chromium (MuJoCo wasm in both)", async () => {
  const exe = process.env.SCD_CHROMIUM ?? "/usr/bin/chromium";
  assert.ok(fs.existsSync(exe), `Chromium not found at ${exe} (apt-get install chromium, or set SCD_CHROMIUM)`);
  const roll = `async (seed, actions) => { await loadMujoco(); const env = new ArmPushEnv(); const out = [Array.from(env.reset({ seed }).obs["observation.state"])];
    for (const a of actions) out.push(Array.from(env.step(a).obs["observation.state"])); const f = env.render(); env.close(); return { out, frame: f.data.reduce((s, v) => s + v, 0) }; }`;
  const contents = `import { loadMujoco } from "./src/envs/arm-push/mujoco.ts"; import { ArmPushEnv } from "./src/envs/arm-push/arm-push.ts"; globalThis.roll = ${roll};`;
  const js = (await esbuild.build({ stdin: { contents, resolveDir: ROOT, loader: "ts" }, bundle: true, format: "esm", platform: "browser", write: false, logLevel: "silent", alias: { "@napi-rs/canvas": path.join(ROOT, "src/web/canvas.ts") } })).outputFiles[0].text;
  const files: Record<string, string | Buffer> = { "/": `<!doctype html><script type="importmap">{"imports":{"mujoco-js":"/mujoco.js"}}</script><script type="module" src="/roll.js"></script>`, "/roll.js": js, "/mujoco.js": fs.readFileSync(path.join(ROOT, "node_modules/mujoco-js/dist/mujoco_wasm.js")) };
  const server = http.createServer((q, r) => (files[q.url ?? ""] === undefined ? r.writeHead(404).end() : r.writeHead(200, { "content-type": q.url === "/" ? "text/html" : "text/javascript" }).end(files[q.url!])));
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const browser = await chromium.launch({ executablePath: exe, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await page.waitForFunction(() => typeof (globalThis as { roll?: unknown }).roll === "function");
    const actions = Array.from({ length: 40 }, (_, t) => [0.35 + (0.3 * ((t * 7) % 10)) / 10, -0.25 + (0.5 * ((t * 3) % 10)) / 10]);
    const web = await page.evaluate(([seed, a]) => (globalThis as unknown as { roll: (s: number, a: number[][]) => Promise<unknown> }).roll(seed, a), [5, actions] as [number, number[][]]);
    const node = await (new Function("loadMujoco", "ArmPushEnv", `return ${roll}`)(loadMujoco, ArmPushEnv) as (s: number, a: number[][]) => Promise<unknown>)(5, actions);
    assert.equal(web, node, "bit-identical observations over 40 steps and the same rendered frame");
  } finally {
    await browser.close();
    server.close();
  }
});

test("scd collect records expert demonstrations of arm-push-v1 (real CLI)", () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "arm-push-")), "arm.scdd");
  const r = scd(["collect", ID, "--policy", "expert", "--episodes", "3", "--seed-start", "7", "--out", out]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /3 episodes \(3\/3 successful\)/);
  const j = JSON.parse(scd(["dataset", "inspect", out, "--json"]).stdout);
  assert.is(j.episodes, 3);
  assert.equal(Object.keys(j.features).sort(), ["action", "observation.state"]);
});

test("the shipped arm-push SCD checkpoint pushes the cube home: 10 seeded episodes through the real CLI, ≥ 8 successes", () => {
  const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "arm-push-")), "eval.json");
  const r = scd(["eval", "--policy", path.join(ROOT, "assets/checkpoints/arm-push"), "--env", ID, "--episodes", "10", "--seed-start", "100000", "--latency", "0", "--execute", "2", "--json", json]);
  assert.is(r.code, 0, r.stderr);
  const agg = JSON.parse(fs.readFileSync(json, "utf8")).aggregated;
  console.log(`  shipped arm-push SCD, seeds 100000–100009, --execute 2: ${agg.pc_success} % success, mean score ${agg.avg_max_reward.toFixed(3)}`);
  assert.ok(agg.pc_success >= 80, `${agg.pc_success} % success`);
});

test.run();
