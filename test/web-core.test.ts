/**
 * The browser-safe core in Node (fast; the Chromium run is web.test.ts): ONNX Runtime Web's wasm module run
 * synchronously agrees with onnxruntime-node on the shipped SCD export; the native dataset format on bytes is byte
 * for byte the file writer's; the web bundle refuses Node built-ins and native addons; a pointer drives Push-T
 * through LiveRun and the recording decodes; a checkpoint fetched over HTTP (the page's tfjs runtime) is the one
 * read from files, and a broken one is refused naming its URL.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { test } from "uvu";
import * as assert from "uvu/assert";
import "../src/envs/index.ts";
import "../src/policies/index.ts";
import "../src/policies/onnx.ts";
import { makeEnv } from "../src/envs/registry.ts";
import { readCheckpointMeta, readWeights } from "../src/checkpoints/checkpoint.ts";
import { buildExport } from "../src/checkpoints/export-dir.ts";
import { nodeRunner } from "../src/deploy/ort-node.ts";
import type { Feed } from "../src/deploy/runtime.ts";
import { DatasetWriter, DatasetReader } from "../src/datasets/native.ts";
import { encodeDataset, decodeDataset } from "../src/datasets/native-bytes.ts";
import { ScdError } from "../src/errors.ts";
import { initOrtWasm, type OrtWasm, type OrtWasmFactory } from "../src/web/ort-wasm.ts";
import { LiveEnv } from "../src/web/live-env.ts";
import { LiveRun } from "../src/web/live-loop.ts";
import { PointerPolicy } from "../src/web/pointer-policy.ts";
import { Recorder } from "../src/web/recorder.ts";
import { bundlePage, ROOT } from "../apps/web/build.ts";
import { INITIAL, next, view, type ControlEvent, type ControlState } from "../apps/web/control.ts";
import { serveWeb } from "../apps/web/serve.ts";
import { loadWebCheckpoint } from "../src/checkpoints/fetch-checkpoint.ts";
import { loadPolicy } from "../src/checkpoints/load-checkpoint.ts";
import { initBackend } from "../src/backend/index.ts";

const require = createRequire(import.meta.url);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scd-web-core-"));
let ort: OrtWasm;

test.before(async () => {
  const mjs = require.resolve("onnxruntime-web/ort-wasm-simd-threaded.mjs");
  const { default: factory } = (await import(mjs)) as { default: OrtWasmFactory };
  const bin = fs.readFileSync(mjs.replace(/\.mjs$/, ".wasm"));
  // the emscripten module sets globalThis.Worker in Node (for threads this runner never starts): restore it
  const g = globalThis as { Worker?: unknown };
  const had = "Worker" in g, prev = g.Worker;
  try {
    ort = await initOrtWasm(factory, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer);
  } finally {
    if (had) g.Worker = prev;
    else delete g.Worker;
  }
});
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("a checkpoint fetched over HTTP (the page's tfjs runtime) gives the chunks of the one read from files; a broken one is refused naming its URL", async () => {
  await initBackend("wasm");
  const site = path.join(tmp, "site"), ck = path.join(ROOT, "assets/checkpoints/scd-pusht");
  fs.mkdirSync(path.join(site, "ck"), { recursive: true });
  fs.writeFileSync(path.join(site, "index.html"), "");
  for (const f of ["checkpoint.json", "weights.msgpack"]) fs.copyFileSync(path.join(ck, f), path.join(site, "ck", f));
  fs.mkdirSync(path.join(site, "bad"));
  fs.copyFileSync(path.join(ck, "checkpoint.json"), path.join(site, "bad/checkpoint.json"));
  fs.writeFileSync(path.join(site, "bad/weights.msgpack"), fs.readFileSync(path.join(ck, "weights.msgpack")).subarray(0, 1000));
  fs.mkdirSync(path.join(site, "badmeta"));
  const meta = JSON.parse(fs.readFileSync(path.join(ck, "checkpoint.json"), "utf8"));
  fs.writeFileSync(path.join(site, "badmeta/checkpoint.json"), JSON.stringify({ ...meta, layout: { ...meta.layout, frameDim: 99 } }));
  const server = await serveWeb(site, { port: 0 });
  try {
    const web = await loadWebCheckpoint(`${server.url}ck/`);
    assert.is(web.meta.step, readCheckpointMeta(ck).step);
    const a = web.policy(), b = loadPolicy(ck);
    try {
      a.reset(3);
      b.reset(3);
      const env = await makeEnv("pusht-v1");
      const { obs } = env.reset({ seed: 100000 });
      for (const p of [a, b]) p.observe({ obs, prevAction: null });
      assert.equal(Array.from(a.sampleChunk({ seed: 5 })), Array.from(b.sampleChunk({ seed: 5 })));
    } finally {
      a.dispose();
      b.dispose();
    }
    const refused = async (dir: string, re: RegExp) => {
      const err = await loadWebCheckpoint(`${server.url}${dir}/`).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof ScdError && re.test(err.message), `${dir}: ${(err as Error)?.message ?? "loaded"}`);
    };
    await refused("missing", /missing\/checkpoint\.json: HTTP 404/);
    await refused("bad", /bad\/weights\.msgpack: corrupt weights/);
    await refused("badmeta", /badmeta\/checkpoint\.json: layout\.frameDim is 99/);
  } finally {
    await server.close();
  }
});

test("ORT Web wasm (synchronous) matches onnxruntime-node on the shipped SCD export, frame after frame", () => {
  const ckpt = path.join(ROOT, "assets/checkpoints/scd-pusht");
  const { manifest, files } = buildExport(readCheckpointMeta(ckpt), readWeights(ckpt), ckpt);
  const bytes = files[manifest.graphs.encoder_step.file];
  const web = ort.runner(bytes), node = nodeRunner(bytes);
  try {
    assert.equal(web.inputs, node.inputs);
    assert.equal(web.outputs, node.outputs);
    const fd = manifest.layout.frameDim;
    let past: Record<string, Feed> = {};
    for (const i of web.inputs) if (i.name !== "frame") past[i.name] = { data: new Float32Array(0), dims: [1, i.shape[1] as number, 0, i.shape[3] as number] };
    for (let t = 0; t < 3; t++) {
      const feeds = { frame: { data: Float32Array.from({ length: fd }, (_, j) => Math.sin(j + t)), dims: [1, fd] }, ...past };
      const a = web.run(feeds), b = node.run(feeds);
      let worst = 0;
      for (const k of Object.keys(b)) {
        assert.equal(a[k].dims, b[k].dims, k);
        for (let j = 0; j < b[k].data.length; j++) worst = Math.max(worst, Math.abs(a[k].data[j] - b[k].data[j]));
      }
      assert.ok(worst < 1e-4, `frame ${t}: max |wasm − node| = ${worst}`);
      past = Object.fromEntries(Object.entries(a).filter(([k]) => k.startsWith("present_")).map(([k, v]) => [k.replace("present_", "past_"), v]));
    }
    assert.throws(() => web.run({}), /input "frame" not fed/);
  } finally {
    web.dispose();
    node.dispose();
  }
  assert.throws(() => ort.runner(new Uint8Array([1, 2, 3, 4])), /cannot create a session/);
});

test("native format on bytes: encodeDataset is byte for byte DatasetWriter's file; decodeDataset reads it; damage is refused", () => {
  const schema = { a: { shape: [2] }, b: { shape: [1] } };
  const eps = [{ a: Float32Array.from([1, 2, 3, 4]), b: Float32Array.from([5, 6]) }, { a: Float32Array.from([7, 8]), b: Float32Array.from([9]) }];
  const f = path.join(tmp, "x.scdd");
  const w = new DatasetWriter(f, schema, { m: 1 });
  eps.forEach((e) => w.appendEpisode(e));
  w.finalize();
  const bytes = encodeDataset(schema, eps, { m: 1 });
  assert.equal(Buffer.compare(Buffer.from(bytes), fs.readFileSync(f)), 0);
  const { buffer, header } = decodeDataset(bytes, "mem.scdd");
  assert.equal(header.meta, { m: 1 });
  assert.equal(Array.from(buffer.episodeEnds), [2, 3]);
  assert.equal(Array.from(buffer.data.a), [1, 2, 3, 4, 7, 8]);
  const bad = bytes.slice();
  bad[30] ^= 0xff;
  assert.throws(() => decodeDataset(bad, "bad.scdd"), (e: unknown) => e instanceof ScdError && /bad\.scdd/.test((e as Error).message));
  assert.throws(() => decodeDataset(bytes.subarray(0, bytes.length - 3), "cut.scdd"), /cut\.scdd: truncated or unfinished/);
  assert.throws(() => encodeDataset(schema, [{ a: Float32Array.from([1, NaN]), b: Float32Array.from([0]) }], {}, "rec"), /rec: episode 0 feature "a" has a non-finite value/);
});

test("scd-policy/web (src/web/index.ts, with the envs and policies) bundles for the browser with no Node built-in or native addon", async () => {
  const p = path.join(ROOT, `test/.web-entry-api-${process.pid}.ts`);
  fs.writeFileSync(p, `import "../src/envs/index.ts";\nimport "../src/policies/index.ts";\nimport "../src/policies/onnx.ts";\nexport * from "../src/web/index.ts";\n`);
  try {
    const meta = await bundlePage(path.join(tmp, "api"), false, { api: p });
    const inputs = Object.keys(meta.inputs);
    for (const m of ["src/web/tfjs-web.ts", "src/train/session.ts", "src/checkpoints/fetch-export.ts", "src/policies/scd/model.ts", "src/envs/pusht/index.ts"]) assert.ok(inputs.some((f) => f.endsWith(m)), `${m} is in the bundle`);
  } finally {
    fs.rmSync(p, { force: true });
  }
});

test("the web bundle refuses Node built-ins and native addons, naming them", async () => {
  const entry = (name: string, src: string) => {
    const p = path.join(ROOT, `test/.web-entry-${name}-${process.pid}.ts`);
    fs.writeFileSync(p, src);
    return p;
  };
  const cases: [string, string, RegExp][] = [
    ["fs", `import { readDataset } from "../src/datasets/native.ts"; console.log(readDataset);`, /node:fs|"fs"/],
    ["addon", `import * as ort from "onnxruntime-node"; console.log(ort);`, /onnxruntime-node|\.node|Could not resolve/],
  ];
  for (const [name, src, re] of cases) {
    const p = entry(name, src);
    try {
      const err = await bundlePage(path.join(tmp, name), false, { app: p }).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof ScdError && re.test(err.message), `${name}: ${(err as Error)?.message ?? "bundled without error"}`);
    } finally {
      fs.rmSync(p, { force: true });
    }
  }
});

test("a pointer drives Push-T through LiveRun (the control loop); the recording decodes with the right features", async () => {
  const env = new LiveEnv(await makeEnv("pusht-v1", {}, { timeLimit: false }));
  const rec = new Recorder(env.observationSpace, env.actionSpace, env.id, env.metadata.controlHz);
  const pointer = new PointerPolicy(2, (p, obs) => Float32Array.from(p ?? obs["observation.agent_pos"]));
  env.restart(3);
  rec.begin();
  const run = new LiveRun(env, pointer, { strategy: { kind: "receding", execute: 1 }, seed: 3, maxSteps: 300 }, { onStep: (o, a, _s, t) => rec.add(o, a, t) });
  run.start();
  const agent0 = Array.from(env.current!["observation.agent_pos"]);
  run.pump(5); // no pointer yet: the agent holds
  for (let i = 0; i < 20; i++) {
    pointer.setPointer([100 + 10 * i, 400]);
    run.pump(1);
  }
  run.stop();
  assert.is(rec.end(), 25);
  const { buffer } = decodeDataset(rec.bytes(), "rec");
  assert.equal(Object.keys(buffer.schema).sort(), ["action", "observation.agent_pos", "observation.keypoints", "observation.state", "timestamp"]);
  const a = buffer.data.action, ts = buffer.data.timestamp;
  assert.equal(Array.from(a.subarray(0, 2)).map((v) => Math.round(v * 100) / 100), agent0.map((v) => Math.round(v * 100) / 100));
  assert.equal(Array.from(a.subarray(48, 50)), [290, 400]);
  assert.ok(Math.abs(ts[24] - 2.4) < 0.02, `timestamps at 10 Hz, sent when the pointer policy answered (last ${ts[24]})`);
  const ag = env.current!["observation.agent_pos"];
  assert.ok(Math.hypot(ag[0] - 290, ag[1] - 400) < 60, `the agent followed the pointer to (${ag[0]}, ${ag[1]})`);
});

test("the page's control state machine: an ended episode starts afresh, take-over always moves, the buttons follow the state", () => {
  const run = (evs: ControlEvent[]) => evs.reduce<{ state: ControlState; fresh: boolean }>((a, e) => next(a.state, e), { state: INITIAL, fresh: false });
  // the person's episode ended (step limit): no stale "Hand back", and taking over starts a fresh episode
  const ended = run([{ type: "takeOver", record: true }, { type: "end" }]).state;
  assert.equal(ended, { mode: "human", phase: "ended", recording: false });
  assert.is(view(ended, "SCD").takeoverLabel, "Take over");
  assert.ok(view(ended, "SCD").pauseDisabled);
  assert.equal(next(ended, { type: "takeOver", record: true }), { state: { mode: "human", phase: "running", recording: true }, fresh: true });
  assert.equal(next(ended, { type: "handBack" }).fresh, true);
  // taking over while paused resumes
  assert.equal(run([{ type: "pause" }, { type: "takeOver", record: false }]), { state: { mode: "human", phase: "running", recording: false }, fresh: false });
  // hand back: the policy drives, nothing recorded, and the controls say so
  const back = run([{ type: "takeOver", record: true }, { type: "handBack" }]).state;
  assert.equal([back, view(back, "SCD").who, view(back, "SCD").recordingButtons], [{ mode: "policy", phase: "running", recording: false }, "SCD", false]);
  // pause and resume do nothing to an ended episode; End & keep and Discard end it
  assert.equal(next(ended, { type: "pause" }).state, ended);
  for (const type of ["keep", "discard"] as const) assert.equal(run([{ type: "takeOver", record: true }, { type }]).state, { mode: "human", phase: "ended", recording: false });
  assert.equal(view(run([{ type: "replay" }]).state, "SCD").policyReadouts, false);
});

test("the recorder keeps an episode less its idle tail, discards the open one or the last kept one", async () => {
  const env = new LiveEnv(await makeEnv("pusht-v1", {}, { timeLimit: false }));
  const rec = new Recorder(env.observationSpace, env.actionSpace, env.id, env.metadata.controlHz);
  let { obs } = env.reset({ seed: 1 });
  const steps = (n: number) => {
    for (let i = 0; i < n; i++) {
      const a = [200 + i, 300];
      rec.add(obs, a, i / 10);
      obs = env.step(a).obs;
    }
  };
  rec.begin();
  steps(12);
  assert.is(rec.openSteps, 12);
  assert.is(rec.end(4), 8);
  assert.equal(Array.from(rec.episodes[0].action.slice(-2)), [207, 300]);
  assert.is(rec.episodes[0]["observation.state"].length, 8 * 5);
  rec.begin();
  steps(5);
  assert.is(rec.discard(), 5);
  assert.is(rec.episodes.length, 1);
  rec.begin();
  steps(3);
  assert.is(rec.end(2), 0, "under 2 steps: dropped");
  assert.is(rec.discardLast(), 8);
  assert.is(rec.episodes.length, 0);
});

test.run();
