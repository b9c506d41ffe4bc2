/**
 * An export's manifest checked against itself and against the graph interfaces its policy's registration declares
 * for the manifest's own config and layout (browser-safe; run by parseManifest and readManifest, before any graph
 * loads; the declared interfaces are those the export traced its graphs into). The loaded graphs are then checked
 * against the manifest's inputs and outputs (graph-check.ts), so config, layout, facts, manifest and graphs all
 * agree. Without this an edited manifest loads and fails at every control tick.
 */
import { ScdError } from "../errors.ts";
import { checkMetaParts } from "./format.ts";
import type { Manifest } from "./manifest.ts";
import type { ValueSpec, ExportFacts } from "../policies/registry.ts";
import { policyDef } from "../policies/registry.ts";
import { onnxExportDef, onnxExportNames } from "../deploy/runtime.ts";

type Built = { graphs: Record<string, { inputs: readonly ValueSpec[]; outputs: readonly ValueSpec[]; optional?: boolean }>; facts: ExportFacts };

const fmtSpec = (s: { dtype: string; shape: (number | string)[] }) => `${s.dtype} [${s.shape.join(", ")}]`;
const names = (xs: readonly { name: string }[]) => xs.map((x) => x.name).join(", ");

/** What `policy`'s registration declares for the manifest's config and layout, or the ScdError that stops it. */
function expected(policy: string, m: Manifest, where: string): Built | ScdError {
  try {
    const spec = onnxExportDef(policy, where);
    const config = policyDef(policy).configSchema.parse(m.config) as Record<string, unknown>;
    const unknown = Object.keys(m.config).find((k) => !(k in config));
    if (unknown) return new ScdError(`${where}: config field "${unknown}" is not part of a ${policy} config`);
    const graphs = spec.graphs(config, m.layout);
    return { graphs: Object.fromEntries(Object.entries(graphs).map(([k, g]) => [k, { inputs: g.inputs, outputs: g.outputs, optional: g.optional }])), facts: spec.facts(config, m.layout) };
  } catch (e) {
    if (e instanceof ScdError) return e;
    // a config the policy's schema rejects (zod) or a declaration that cannot apply it
    const issue = (e as { issues?: { path: (string | number)[]; message: string }[] }).issues?.[0];
    return new ScdError(`${where}: config is not a valid ${policy} config: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : (e as Error).message.split("\n")[0]}`);
  }
}

/** The first difference between the manifest's graph entries and `b`'s, as a message, or null. */
function graphDiff(m: Manifest, b: Built, where: string, policy: string): string | null {
  // an optional graph (added in a later version) may be absent: older exports still load
  const got = Object.keys(m.graphs).sort(), want = Object.keys(b.graphs).filter((k) => !b.graphs[k].optional || got.includes(k)).sort();
  if (want.join() !== got.join()) return `${where}: graphs are (${got.join(", ")}), but a ${policy} export has (${Object.keys(b.graphs).sort().join(", ")})`;
  const ctx = `${policy}'s export for this config and layout (frameDim ${m.layout.frameDim}, actionDim ${m.layout.actionDim})`;
  for (const name of want)
    for (const kind of ["inputs", "outputs"] as const) {
      const mine = m.graphs[name][kind], theirs = b.graphs[name][kind];
      if (mine.length !== theirs.length || mine.some((x, i) => x.name !== theirs[i].name))
        return `${where}: graphs.${name}.${kind} are (${names(mine)}), but ${ctx} has (${names(theirs)})`;
      for (let i = 0; i < mine.length; i++)
        if (fmtSpec(mine[i]) !== fmtSpec(theirs[i]))
          return `${where}: graphs.${name}.${kind}[${i}] "${mine[i].name}" is ${fmtSpec(mine[i])}, but ${ctx} declares ${fmtSpec(theirs[i])}`;
    }
  return null;
}

/**
 * Check an export's manifest (read from `where`) for parts that disagree: graph files outside the export directory,
 * normalizers or frame sizes that do not fit the layout, `actionDim` vs the layout, a `policy` whose registration would
 * declare other graphs from this config and layout (e.g. relabelled), graph inputs/outputs or `horizon`, `actionDim`,
 * `objective`, `defaultSteps` that the config and layout do not give. The policies must be registered.
 * @throws ScdError naming `where`, the field and both values.
 */
export function checkManifest(m: Manifest, where: string): void {
  for (const [name, g] of Object.entries(m.graphs))
    if (!/^[^/\\\0]+$/.test(g.file) || g.file === "." || g.file === "..")
      throw new ScdError(`${where}: graphs.${name}.file is "${g.file}", outside the export directory (it must be a file name in it, e.g. "${name}.onnx")`);
  checkMetaParts(m, where);
  if (m.actionDim !== m.layout.actionDim) throw new ScdError(`${where}: actionDim is ${m.actionDim}, but layout.actionDim is ${m.layout.actionDim}`);
  const own = expected(m.policy, m, where);
  const diff = own instanceof ScdError ? own.message : graphDiff(m, own, where, m.policy);
  if (diff) {
    // a relabelled policy: name the policy whose export these config and graphs are
    const other = onnxExportNames().find((p) => {
      if (p === m.policy) return false;
      const b = expected(p, m, where);
      return !(b instanceof ScdError) && !graphDiff(m, b, where, p);
    });
    if (other) throw new ScdError(`${where}: policy is "${m.policy}", but its config and graphs (${Object.keys(m.graphs).join(", ")}) are a "${other}" export`);
    throw new ScdError(diff);
  }
  const b = own as Built;
  for (const k of ["horizon", "actionDim", "objective", "defaultSteps"] as const)
    if (m[k] !== b.facts[k]) throw new ScdError(`${where}: ${k} is ${JSON.stringify(m[k])}, but its config and layout (and the graphs' shapes) give ${JSON.stringify(b.facts[k])}`);
}
