import { ScdError } from "../../errors.ts";
import { type Command, out } from "../command.ts";

export const exportCommand: Command = {
  name: "export",
  summary: "export a checkpoint for deployment: ONNX graphs + manifest.json, runnable with ONNX Runtime (scd eval/run --policy <dir>)",
  usage: "<checkpoint dir> --format onnx --out <dir> [--force] [--minimal] [--steps K] [--json]",
  minPositional: 1,
  flags: {
    format: { type: "string", desc: "export format: onnx", default: "onnx" },
    out: { type: "string", desc: "output directory" },
    force: { type: "boolean", desc: "replace an earlier export (or an empty directory) at --out; anything else is refused" },
    minimal: { type: "boolean", desc: "leave out optional graphs (scd's fused decoder_sample, about half the export's size): K + 1 runtime calls per chunk instead of one" },
    steps: { type: "int", desc: "the export's default denoising steps K (the fused graph's; default: the checkpoint's own)", min: 1 },
    json: { type: "boolean", desc: "print the manifest as JSON" },
  },
  async run(pos, flags) {
    if (flags.format !== "onnx") throw new ScdError(`--format must be onnx, got "${flags.format}"`);
    if (!flags.out) throw new ScdError(`export needs --out <dir>`);
    // the policies and their ONNX exporters are registered by the entry point (main.ts)
    const { exportCheckpoint } = await import("../../checkpoints/export-dir.ts");
    const m = exportCheckpoint(pos[0], flags.out as string, { force: flags.force as boolean | undefined, minimal: flags.minimal as boolean | undefined, steps: flags.steps as number | undefined });
    if (flags.json) return out(JSON.stringify(m, null, 2));
    const g = Object.entries(m.graphs).map(([, x]) => `  ${x.file.padEnd(24)} ${x.inputs.length} inputs, ${x.outputs.length} outputs — ${x.doc}`);
    out([`exported ${m.policy} (step ${m.source.step}, ${m.source.numParams.toLocaleString("en")} parameters) to ${flags.out}: ONNX opset ${m.opset}, dynamic batch`, ...g, `  manifest.json            layout, normalizers, objective ${m.objective ?? "none"}, default steps ${m.defaultSteps}, every input and output`].join("\n"));
  },
};
