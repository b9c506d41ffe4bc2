import * as tf from "@tensorflow/tfjs";
import { initBackend, packageVersion } from "../../backend/index.ts";
import { type Command, BACKEND_FLAG, out } from "../command.ts";

export const info: Command = {
  name: "info",
  summary: "print the tensor backend in use, versions, SIMD, and why other backends were skipped",
  usage: "[--json]",
  flags: { ...BACKEND_FLAG, json: { type: "boolean", desc: "print one JSON object" } },
  async run(_pos, flags) {
    const r = await initBackend((flags.backend as string) ?? process.env.SCD_BACKEND ?? null);
    const obj = { package: packageVersion(), node: process.version, platform: `${process.platform}-${process.arch}`, ...r, numTensors: tf.memory().numTensors };
    if (flags.json) return out(JSON.stringify(obj, null, 2));
    out(
      [
        `scd ${obj.package}  node ${obj.node}  ${obj.platform}`,
        `backend:      ${r.backend}${r.requested ? ` (requested: ${r.requested})` : " (auto)"}`,
        `tfjs:         ${r.tfjsVersion}`,
        ...(r.wasmSimd !== null ? [`wasm SIMD:    ${r.wasmSimd ? "on" : "off"}`, `wasm patches: ${r.wasmPatches ? "on (transposed matmul, UnsortedSegmentSum)" : "off"}`] : []),
        ...r.skipped.map((s) => `skipped ${s.backend}: ${s.reason}`),
      ].join("\n"),
    );
  },
};
