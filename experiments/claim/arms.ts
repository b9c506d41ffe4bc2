/**
 * The arms of the like-for-like test of the seed paper's claim (issue "SCD's claim, tested like for like") on Push-T:
 * SCD against an ENTANGLED causal diffusion model of the same size (parameters within 10 %), the same total depth
 * split about 2 : 1 between encoder and decoder as the paper's SCD-M (8 + 4 against a 12-layer monolith), with the
 * same history, training window, positions per window, noise draws, batch, learning-rate schedule, data and
 * denoising steps (K = 10, Euler flow). Plus the paper's ablations: a deeper decoder than encoder, no context noise,
 * and this package's FiLM-MLP decoder instead of token concatenation.
 */

/**
 * Push-T keypoint frames (observation-only), history 2, one chunk per training window of 2 frames (Diffusion Policy's
 * setup). Longer windows with a chunk loss at every position suit SCD (one encoder pass serves 8 chunks) but the
 * entangled model then runs 8 + 8 × 16 tokens through 12 layers: 15 s a step at batch 32 on wasm, against 2.7 s at
 * batch 64 with one chunk per 2-frame window. The like-for-like test uses the window both can afford.
 */
const SHARED = { horizon: 16, history: 2, window: 2, positionsPerWindow: 1, dModel: 128, heads: 4, prevAction: false };

export interface Arm {
  /** Short id: the run directory's name and the table's row. */
  id: string;
  /** What it tests, in words (the table's first column). */
  what: string;
  policy: "scd" | "entangled-diffusion";
  policyConfig: Record<string, unknown>;
  /** Trained for the wall-clock time of this arm (its steps are sized to that time), else for `steps`. */
  equalTimeTo?: string;
}

export const ARMS: Arm[] = [
  { id: "scd-t", what: "SCD, token-concatenated transformer decoder (8 encoder + 4 decoder layers)", policy: "scd", policyConfig: { ...SHARED, encLayers: 8, decoder: "transformer", decLayers: 4, decDModel: 128, decHeads: 4, decoderDraws: 1 } },
  { id: "entangled", what: "entangled causal diffusion, 12 layers (equal steps)", policy: "entangled-diffusion", policyConfig: { ...SHARED, layers: 12, draws: 1 } },
  { id: "entangled-time", what: "entangled causal diffusion, 12 layers (equal wall-clock to scd-t)", policy: "entangled-diffusion", policyConfig: { ...SHARED, layers: 12, draws: 1 }, equalTimeTo: "scd-t" },
  { id: "scd-t-deepdec", what: "ablation: deeper decoder (4 encoder + 8 decoder layers)", policy: "scd", policyConfig: { ...SHARED, encLayers: 4, decoder: "transformer", decLayers: 8, decDModel: 128, decHeads: 4, decoderDraws: 1 } },
  { id: "scd-t-noctx", what: "ablation: no context noise (η = 0)", policy: "scd", policyConfig: { ...SHARED, encLayers: 8, decoder: "transformer", decLayers: 4, decDModel: 128, decHeads: 4, decoderDraws: 1, contextNoise: 0 } },
  { id: "scd-mlp", what: "ablation: FiLM-MLP decoder (this package's default: 5 encoder layers, MLP 256 × 3)", policy: "scd", policyConfig: { ...SHARED, encLayers: 5, decoder: "mlp", decLayers: 3, decDModel: 256, decoderDraws: 1 } },
];

/** Arms with the same key run the same inference graph (they differ only in training: context noise, budget). */
export const inferenceKey = (arm: Arm): string => `${arm.policy}:${JSON.stringify({ ...arm.policyConfig, contextNoise: undefined })}`;

/** The training recipe every arm shares (scd train's keys). */
export const RECIPE = { batch: 64, lr: 1e-3, warmup: 200, minLrFrac: 0, weightDecay: 1e-4, emaPower: 0.75, emaDecay: 0.9999 };

/** Evaluation: Diffusion Policy's 50 test seeds and 50 more, latency 0 (pure policy quality), K = 10. */
export const SEED_RANGES = [100000, 200000];
export const EPISODES = 50;
