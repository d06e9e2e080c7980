import type { FlowModelConfig } from '../../models/flow-model.js';

/** What the main thread knows of a flow model file: enough to check every request without a worker. */
export interface FlowMeta {
  config: FlowModelConfig;
  params: number;
  inputShape: [number, number, number];
  /** 0 without a class prior. */
  classes: number;
  /** The couplings see the label: encode and decode then need one label per image. */
  classCouplings: boolean;
  /** [C, H, W] of each latent encode returns, split latents first, the top latent last. */
  latentShapes: Array<[number, number, number]>;
}

/** Payloads the flow runtime receives, one per request. */
export interface SamplePayload { n: number; temperature: number; seed: number; labels?: number[] }
/** Pixels as the model takes them (wire value + 0.5, see WIRE_SHIFT), N × C × H × W. */
export interface PixelsPayload { n: number; pixels: Float32Array; labels?: number[] }
export interface LatentsPayload { n: number; latents: Float32Array[]; labels?: number[] }

export interface ScoreResult { bitsPerDim: Float32Array; classProbs: Float32Array | null }
export interface PixelsResult { pixels: Float32Array; labels: number[] | null }
export interface LatentsResult { latents: Float32Array[] }

/**
 * Pixels on the wire are 8-bit intensities, 0…255 (fractions allowed), the values of a PNG. The
 * model works on dequantised pixels u ∈ [0, 256): an 8-bit value v stands for the bin [v, v + 1),
 * which the server scores at its middle, u = v + 0.5 (deterministic, unlike uniform noise, so the
 * same request gives the same bits/dim everywhere). Outputs go back the same way: v = u − 0.5,
 * clamped to [0, 255], so encode → decode returns the pixels sent and a PNG rounds to the right bin.
 */
export const WIRE_SHIFT = 0.5;
