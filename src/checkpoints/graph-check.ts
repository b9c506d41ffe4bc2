/**
 * Browser-safe checks of loaded ONNX graphs against an export's manifest (used by export-dir.ts on files and by
 * the web page on fetched bytes): input/output names, element types and shapes, each mismatch one ScdError.
 */
import { ScdError } from "../errors.ts";
import type { Manifest } from "./manifest.ts";
import type { ExportFacts, GraphRunner } from "../policies/registry.ts";

const fmtShape = (s: (number | string)[]) => `[${s.join(", ")}]`;

/** Throws naming `mf` (the manifest's path or URL) when graph `name`'s runner disagrees with its manifest entry. */
export function checkGraphIO(mf: string, name: string, g: Manifest["graphs"][string], r: GraphRunner): void {
  for (const [kind, want, got] of [["inputs", g.inputs, r.inputs], ["outputs", g.outputs, r.outputs]] as const) {
    if (want.length !== got.length || want.some((w, i) => w.name !== got[i].name))
      throw new ScdError(`${mf}: graphs.${name}.${kind} (${want.map((w) => w.name).join(", ")}) disagree with ${g.file}'s (${got.map((x) => x.name).join(", ")})`);
    want.forEach((w, i) => {
      const x = got[i];
      if (w.dtype !== x.dtype || w.shape.length !== x.shape.length || w.shape.some((d, j) => d !== x.shape[j]))
        throw new ScdError(`${mf}: graphs.${name}.${kind}[${i}] "${w.name}" is ${w.dtype} ${fmtShape(w.shape)}, but ${g.file} has ${x.dtype} ${fmtShape(x.shape)}`);
    });
  }
}

export function factsOf(m: Manifest): ExportFacts {
  return { horizon: m.horizon, actionDim: m.actionDim, defaultSteps: m.defaultSteps, objective: m.objective, runtime: m.runtime };
}
