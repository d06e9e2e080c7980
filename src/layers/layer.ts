import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

/** encode: data → latent. logdet = log|det ∂y/∂x| per batch element, shape [N]. */
export interface EncodeResult {
  y: Tensor;
  logdet: Tensor;
}

/** A plain JSON description that fully determines a layer's architecture (not its weights). */
export interface LayerConfig {
  readonly kind: string;
}

/** A config literal of any kind (the registry checks kinds when building). */
export const layerConfig = (c: { kind: string; [key: string]: unknown }): LayerConfig => c;

/** An invertible layer. decode(encode(x).y) = x; training differentiates through encode. */
export abstract class FlowLayer extends Module {
  abstract readonly config: LayerConfig;
  abstract encode(x: Tensor): EncodeResult;
  abstract decode(y: Tensor): Tensor;
}
