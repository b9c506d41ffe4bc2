import * as path from "node:path";
import { ScdError } from "../../errors.ts";
import { initBackend } from "../../backend/index.ts";
import { makeEnv } from "../../envs/registry.ts";
import { policyFactory, BUILTIN_POLICIES } from "../../checkpoints/resolve.ts";
import { checkFeatures } from "../../policies/types.ts";
import { summarizeLoop, formatSummary, allInferenceFailed } from "../../loop/metrics.ts";
import { box, type Obs } from "../../envs/types.ts";
import { datasetFormats, type LogRecorder } from "../../datasets/formats.ts";
import { type Command, BACKEND_FLAG, out } from "../command.ts";
import { LOOP_FLAGS, strategyFromFlags, recordFormat } from "./eval.ts";
import "../../envs/index.ts";

export const runCommand: Command = {
  name: "run",
  summary: "run a policy in real time against a robot or simulator behind rosbridge (Ctrl-C stops with a safe action)",
  usage: "--policy <checkpoint|expert|random> --ros ws://host:port --map map.json [--env id] [--duration s] [--test-server] [--record out.mcap]",
  flags: {
    policy: { type: "string", desc: "checkpoint directory or built-in policy" },
    ros: { type: "string", desc: "rosbridge URL, e.g. ws://127.0.0.1:9090" },
    map: { type: "string", desc: "topic map JSON (observations ← topics, action → topic)" },
    env: { type: "string", desc: "env id whose expert/action space a built-in policy uses" },
    "period-ms": { type: "number", desc: "control period (default: the env's, else 100)", min: 1 },
    duration: { type: "number", desc: "stop after this many seconds (default: until Ctrl-C)", min: 0.001 },
    "test-server": { type: "boolean", desc: "start an in-process rosbridge server with --env (default reach-obstacle-v1) as a simulated robot (demo)" },
    fallback: { type: "string", desc: "safe action: zero | hold (default: the --env's, else zero)" },
    record: { type: "string", desc: "log every tick, chunk and loop event to a file (out.mcap: Foxglove; with --profile ros2 a ROS 2 bag on the map's topics)" },
    profile: { type: "string", desc: "--record's MCAP profile: json (Foxglove JSON log) | ros2 (a ROS 2 bag: CDR messages, ros2msg schemas)", default: "json" },
    ...LOOP_FLAGS,
    ...BACKEND_FLAG,
  },
  async run(_pos, flags) {
    if (!flags.policy) throw new ScdError(`run needs --policy`);
    if (!flags.map) throw new ScdError(`run needs --map <topic map JSON> (see examples/ros/reach_map.json)`);
    if (!flags.ros && !flags["test-server"]) throw new ScdError(`run needs --ros ws://host:port (or --test-server for the built-in simulated robot)`);
    if (flags.fallback !== undefined && flags.fallback !== "zero" && flags.fallback !== "hold") throw new ScdError(`--fallback must be zero or hold, got "${flags.fallback}"`);
    const recFmt = flags.record ? recordFormat(flags.record as string, flags.profile as string) : null;
    if (flags.record && !recFmt) throw new ScdError(`--record ${flags.record}: scd run writes logs; name a file ending in ${datasetFormats().flatMap((f) => (f.recorder ? f.extensions ?? [] : [])).join(", ")}`);
    await initBackend((flags.backend as string) ?? process.env.SCD_BACKEND ?? null);
    // ROS is loaded only here: users who never touch ROS never load roslib
    const { loadTopicMap, checkMapAgainstPolicy, checkMapAgainstEnv, mapRosVersion, mapExtensions } = await import("../../ros/topic-map.ts");
    const { RosConnector } = await import("../../ros/connector.ts");
    const { runOverRos } = await import("../../ros/run.ts");
    const map = loadTopicMap(flags.map as string);
    const ext = flags.profile === "ros2" && recFmt ? mapExtensions(map) : [];
    if (ext.length) throw new ScdError(`--record --profile ros2 with ${flags.map}: the ROS 2 bag recorder does not write ${ext.join(", ")} yet; record a JSON log (--profile json) instead`);
    let url = flags.ros as string | undefined;
    let cleanup = async () => {};
    let sim: import("../../ros/sim-robot.ts").SimRobot | null = null;
    let simEnv: import("../../envs/types.ts").Env | null = null;
    const envId = flags.env as string | undefined;
    if (flags["test-server"]) {
      const { RosbridgeServer } = await import("../../ros/bridge-server.ts");
      const { TopicBus } = await import("../../ros/backends/bus.ts");
      const { startSimRobot } = await import("../../ros/sim-robot.ts");
      const simId = envId ?? "reach-obstacle-v1";
      // no time limit: the simulated robot runs until stopped, like a real one
      simEnv = await makeEnv(simId, {}, { timeLimit: false });
      try {
        checkMapAgainstEnv(map, simEnv, flags.map as string, { sizes: false }); // sizes: after the policy's check
      } catch (e) {
        simEnv.close(); // a MuJoCo env frees its model
        throw e;
      }
      const bus = new TopicBus();
      const server = new RosbridgeServer(bus, { ros: mapRosVersion(map) });
      await server.start();
      const robot = startSimRobot(bus, simEnv, map, { periodMs: 50 });
      sim = robot;
      url = server.url;
      cleanup = async () => (robot.stop({ closeEnv: true }), await server.close());
      process.stderr.write(`test server with a simulated ${simId} robot at ${url}\n`);
    }
    // the env's spaces and metadata (the simulated robot's env when it is the same one: one MuJoCo model, not two)
    const env = envId ? (simEnv && simEnv.id === envId ? simEnv : await makeEnv(envId)) : null;
    if (env && env !== simEnv) env.close(); // only its spaces and metadata are read, not its simulation
    const fb = (flags.fallback as "zero" | "hold" | undefined) ?? env?.metadata.fallback ?? "zero";
    const hold = env?.metadata.holdFrom;
    const actionSpace = env?.actionSpace ?? box([map.action.low.length], map.action.low, map.action.high);
    const spec = flags.policy as string;
    if (BUILTIN_POLICIES.includes(spec) && spec !== "random" && !envId) throw new ScdError(`built-in policy "${spec}" needs --env <id>`);
    const policy = await (await policyFactory(spec, envId ?? "reach-obstacle-v1", actionSpace))();
    checkFeatures(policy, map.observations.map((o) => o.feature), `topic map ${flags.map}`);
    checkMapAgainstPolicy(map, policy, flags.map as string);
    if (simEnv) checkMapAgainstEnv(map, simEnv, flags.map as string);
    const conn = new RosConnector(url!, map, { log: (l) => process.stderr.write(`[ros] ${l}\n`) });
    await conn.start();
    const periodMs = (flags["period-ms"] as number | undefined) ?? (env ? 1000 / env.metadata.controlHz : 100);
    let log: LogRecorder | null = null;
    if (recFmt) {
      log = await recFmt.recorder!(flags.record as string, { env: envId, periodMs: (flags["period-ms"] as number | undefined) ?? (env ? 1000 / env.metadata.controlHz : 100), actionDim: actionSpace.low.length, meta: { policy: spec, ros: url, ...(flags.profile === "ros2" ? { topicMap: map } : {}) } });
    }
    let lastObs: Obs = {};
    const obsSub = log ? conn.obs$.subscribe((o) => (lastObs = o.obs)) : null;
    const run = runOverRos(policy, conn, { periodMs, strategy: strategyFromFlags(flags, policy.horizon, periodMs), fallback: fb, ...(hold ? { holdFrom: (o: Obs) => o[hold.feature]?.slice(hold.offset, hold.offset + actionSpace.low.length) ?? null } : {}), ...(flags.steps ? { steps: flags.steps as number } : {}) }, { keepEvents: 20_000 });
    // wall-clock loop times (performance.now) onto the Unix epoch
    if (log) run.onEvent((e) => (e.type === "action" ? log!.tick(performance.timeOrigin + e.t, 0, e.tick, lastObs, e.action, e.source !== "policy") : log!.event(performance.timeOrigin + e.t, 0, e)));
    const t0 = performance.now();
    const live = setInterval(() => {
      const s = summarizeLoop(run.events);
      process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${conn.connected$.value ? "connected" : "DISCONNECTED"}  ticks ${s.ticks}  misses ${s.misses}  fallbacks ${s.fallbacks}  jitter p99 ${s.jitterMs.p99.toFixed(2)} ms  inference p50 ${s.inferenceMs.p50.toFixed(1)} ms  malformed ${conn.stats.malformed}${sim?.success ? "  GOAL REACHED" : ""}\n`);
    }, 1000);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      if (flags.duration) setTimeout(stop, (flags.duration as number) * 1000);
      if (sim) {
        const poll = setInterval(() => sim!.success && (clearInterval(poll), setTimeout(stop, 300)), 100);
      }
    });
    clearInterval(live);
    const before = conn.stats.published;
    run.stop(); // the loop's teardown publishes one final safe action
    const finalSent = conn.stats.published > before;
    await new Promise((r) => setTimeout(r, 100));
    conn.close();
    await cleanup();
    obsSub?.unsubscribe();
    await log?.close();
    out(
      [
        `run of ${path.basename(spec)} over ${url} for ${((performance.now() - t0) / 1000).toFixed(1)} s:`,
        formatSummary(summarizeLoop(run.events)).replace(/^/gm, "  "),
        `  ros: published ${conn.stats.published}, dropped while disconnected ${conn.stats.dropped}, received ${conn.stats.received}, malformed ${conn.stats.malformed}, reconnects ${Math.max(0, conn.stats.connects - 1)}`,
        finalSent ? "  final safe action published" : "  final safe action NOT published (disconnected)",
        ...(flags.record ? [`  log: ${flags.record}`] : []),
        ...(sim ? [`  simulated robot: ${sim.received.length} commands received, ${sim.steps} steps, reward ${sim.firstReward.toFixed(3)} → ${sim.lastReward.toFixed(3)}`, sim.success ? "  robot reached the goal" : "  robot did not reach the goal"] : []),
      ].join("\n"),
    );
    policy.dispose?.();
    const failed = allInferenceFailed(summarizeLoop(run.events), `run of ${path.basename(spec)}`);
    // the loop saw only "no observation yet"; the connector knows why
    const note = conn.malformedNote();
    if (failed) throw new ScdError(note ? `${failed} — ${note}` : failed, "run-failed", 1); // every inference failed: not a successful run
    process.exit(0);
  },
};
