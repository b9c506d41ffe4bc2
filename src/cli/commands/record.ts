import * as fs from "node:fs";
import { ScdError } from "../../errors.ts";
import { DatasetWriter } from "../../datasets/native.ts";
import { checkOutput } from "../../util/outputs.ts";
import { type Command, out } from "../command.ts";

/**
 * `scd record`: demonstrations from a robot's topics (a teleoperator driving it) into a native dataset, through
 * rosbridge (ROS 1 or ROS 2, by the map's type names). Episodes start/stop on the map's marker topic or by keys:
 * on a terminal, space or Enter toggles and q quits; from a pipe, lines "start", "stop", "quit" (an empty line
 * toggles). Each finished episode is written at once (`<out>.partial`, renamed when the recording ends).
 */
export const recordCommand: Command = {
  name: "record",
  summary: "record demonstrations from a robot's topics over rosbridge (observations + the commanded action) into a dataset",
  usage: "--ros ws://host:port --map map.json --out demos.scdd [--rate-hz N] [--episodes N] [--duration s] [--force]",
  flags: {
    ros: { type: "string", desc: "rosbridge URL, e.g. ws://127.0.0.1:9090" },
    map: { type: "string", desc: "topic map JSON: observations ← topics, the action topic (what is commanded), optional episodes marker topic" },
    out: { type: "string", desc: "the dataset to write (.scdd)" },
    "rate-hz": { type: "number", desc: "control ticks per second (default: the map's rateHz, else 10)", min: 0.1, max: 1000 },
    episodes: { type: "int", desc: "stop after this many episodes", min: 1 },
    duration: { type: "number", desc: "stop after this many seconds", min: 0.001 },
    "connect-timeout": { type: "number", desc: "seconds to wait for rosbridge", default: 5, min: 0.1 },
    force: { type: "boolean", desc: "overwrite an existing output file" },
  },
  async run(_pos, flags) {
    if (!flags.ros) throw new ScdError(`record needs --ros ws://host:port`);
    if (!flags.map) throw new ScdError(`record needs --map <topic map JSON> (see examples/ros/ros2_teleop_map.json)`);
    if (!flags.out) throw new ScdError(`record needs --out <dataset.scdd>`);
    const outPath = flags.out as string;
    checkOutput(outPath, { flag: "out", kind: "file", force: !!flags.force });
    const { loadTopicMap, fieldsDim } = await import("../../ros/topic-map.ts");
    const { RosConnector } = await import("../../ros/connector.ts");
    const { DemoRecorder } = await import("../../ros/record.ts");
    const map = loadTopicMap(flags.map as string);
    for (const o of map.observations)
      if (fieldsDim(o.fields) === null) throw new ScdError(`topic map ${flags.map}: ${o.feature} reads an array field with no declared length; add "length" (a dataset needs a fixed size)`);
    const hz = (flags["rate-hz"] as number | undefined) ?? map.rateHz ?? 10;
    const conn = new RosConnector(flags.ros as string, map, { listen: true, log: (l) => process.stderr.write(`[ros] ${l}\n`) });
    await conn.start((flags["connect-timeout"] as number) * 1000);
    let writer: DatasetWriter | null = null;
    let steps = 0;
    let finish: () => void = () => {};
    const done = new Promise<void>((r) => (finish = r));
    const rec = new DemoRecorder(conn, {
      periodMs: 1000 / hz,
      maxAgeMs: map.maxAgeMs,
      log: (l) => process.stderr.write(`${l}\n`),
      onEpisode: (ep) => {
        writer ??= new DatasetWriter(outPath, Object.fromEntries(Object.entries(ep).map(([k, v]) => [k, { shape: [v.length / ep.timestamp.length] }])), { source: "scd record", ros: flags.ros, fps: hz, topicMap: map, recordedAt: new Date().toISOString() });
        writer.appendEpisode(ep);
        steps += ep.timestamp.length;
        if (flags.episodes && writer.episodes >= (flags.episodes as number)) finish();
      },
    });
    rec.run();
    // keys: a terminal toggles with space/Enter and quits with q; a pipe sends lines
    const stdin = process.stdin;
    const onKey = (k: string) => (k === "q" || k === "\u0003" ? finish() : k === " " || k === "\r" || k === "\n" ? (rec.recording ? rec.stop("key") : rec.start("key")) : undefined);
    let buf = "";
    const onData = (d: Buffer) => {
      if (stdin.isTTY) return onKey(d.toString());
      buf += d.toString();
      for (let i; (i = buf.indexOf("\n")) >= 0; ) {
        const line = buf.slice(0, i).trim().toLowerCase();
        buf = buf.slice(i + 1);
        if (line === "quit" || line === "q") finish();
        else if (line === "start") rec.start("stdin");
        else if (line === "stop") rec.stop("stdin");
        else if (line === "") onKey("\n");
      }
    };
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on("data", onData);
    process.stderr.write(`recording ${map.observations.map((o) => `${o.feature} ← ${o.topic}`).join(", ")}, action ← ${map.action.topic} at ${hz} Hz; ${map.episodes ? `episodes by ${map.episodes.topic}, ` : ""}${stdin.isTTY ? "space/Enter starts and stops, q quits" : "stdin lines start/stop/quit"}\n`);
    process.once("SIGINT", finish);
    process.once("SIGTERM", finish);
    const timer = flags.duration ? setTimeout(finish, (flags.duration as number) * 1000) : null;
    await done;
    if (timer) clearTimeout(timer);
    stdin.off("data", onData);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    rec.close();
    conn.close();
    const s = rec.stats, w = writer as DatasetWriter | null;
    const summary = `${s.ticks} ticks, ${s.recorded} recorded, ${s.stale} stale, ${s.dropped} one-step pieces dropped; ros: received ${conn.stats.received}, malformed ${conn.stats.malformed}`;
    if (!w) throw new ScdError(`no episode recorded (${summary}${conn.malformedNote() ? `; ${conn.malformedNote()}` : ""}); nothing written to ${outPath}`, "run-failed", 1);
    w.finalize();
    out(`wrote ${outPath}: ${w.episodes} episodes, ${steps} steps at ${hz} Hz (${(fs.statSync(outPath).size / 1e3).toFixed(1)} kB)\n  ${summary}`);
    process.exit(0);
  },
};
