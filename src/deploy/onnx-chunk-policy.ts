/**
 * An exported policy behind the control loop's ChunkPolicy interface: normalization and seeding from
 * NormalizedChunkPolicy (the tfjs policy's own code), the per-frame work from the policy's ONNX runtime.
 * Browser-safe (the web page builds it from fetched graphs; onnx-policy.ts from an export directory).
 */
import type { SampleGuide } from "../diffusion/sampler.ts";
import { NormalizedChunkPolicy } from "../policies/normalized.ts";
import type { Rng } from "../util/rng.ts";
import type { Manifest } from "../checkpoints/manifest.ts";
import type { ArrayModel } from "./runtime.ts";

/** An ONNX export as a {@link ChunkPolicy}: normalization and seeding as for TensorFlow.js, the per-frame work on ONNX Runtime. */
export class OnnxPolicy extends NormalizedChunkPolicy {
  constructor(readonly manifest: Manifest, readonly model: ArrayModel, batch = 1) {
    super(manifest.policy, manifest.layout, manifest.normalizers, manifest.horizon, manifest.actionDim, manifest.defaultSteps, batch);
  }
  protected resetState(batch: number): void {
    this.model.reset(batch);
  }
  protected observeFrame(frame: Float32Array, images: Float32Array[] = []): void {
    if (images.length) this.model.observe(frame, images);
    else this.model.observe(frame);
  }
  sampleNormalized(steps: number, rng: Rng, guide?: SampleGuide): Float32Array {
    return this.model.sample(steps, rng, guide);
  }
  /** The graphs belong to the LoadedExport (shared by its policies). */
  dispose(): void {}
}
