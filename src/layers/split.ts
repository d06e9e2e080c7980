import type { Tensor } from '../engine/tensor.js';
import type { LayerConfig } from './layer.js';
import { Module } from './module.js';

/** Factoring out: x → (y kept for the next level, z scored by the base). logdet is the bijection's only. */
export interface SplitResult { y: Tensor; z: Tensor; logdet: Tensor }

export abstract class SplitLayer extends Module {
  abstract readonly config: LayerConfig;
  abstract encode(x: Tensor): SplitResult;
  abstract decode(y: Tensor, z: Tensor): Tensor;
  /** Channels of z for an input of `channels`. */
  static zChannels(channels: number): number { return channels - Math.floor(channels / 2); }
}
