/**
 * The ONNX runtime's view of the policy registry (browser-safe): a policy's export — graph interfaces, facts and
 * the per-frame runtime over loaded graphs — is part of its one registration (src/policies/registry.ts `onnx`,
 * with its types). Graph runners are an interface, so the same runtime code runs on
 * onnxruntime-node (ort-node.ts) or onnxruntime-web.
 */
import { ScdError } from "../errors.ts";
import { policyDef, policyNames, isPolicyName } from "../policies/registry.ts";
import type { OnnxSpec } from "../policies/registry.ts";

export type { Feed, IOMeta, GraphRunner, ArrayModel, ExportFacts, OnnxSpec, GraphDef, ValueSpec } from "../policies/registry.ts";

/** The registered policies that have an ONNX export, sorted. */
export function onnxExportNames(): string[] {
  return policyNames().filter((n) => policyDef(n).onnx);
}

/** `policy`'s ONNX export. @throws ScdError naming `where` when the policy is unknown or has no export. */
export function onnxExportDef(policy: string, where: string): OnnxSpec & { policy: string } {
  const d = isPolicyName(policy) ? policyDef(policy) : null;
  if (!d?.onnx) throw new ScdError(`${where}: policy "${policy}" has no ONNX export (exportable: ${onnxExportNames().join(", ")})`);
  return { ...d.onnx, policy: d.name };
}
