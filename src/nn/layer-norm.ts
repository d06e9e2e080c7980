import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { layerNorm } from '../ops/index.js';
import { Module } from './module.js';
import type { Param } from './param.js';

/** LayerNorm over the trailing dimensions `normalizedShape`, with learned scale (ones) and shift (zeros). */
export class LayerNorm extends Module {
  readonly weight: Param;
  readonly bias: Param;
  readonly normalizedShape: readonly number[];

  constructor(engine: Engine, normalizedShape: number | readonly number[], readonly eps = 1e-5) {
    super(engine);
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (this.normalizedShape.length === 0 || this.normalizedShape.some((d) => !Number.isInteger(d) || d < 1))
      fail('LayerNorm', `normalizedShape ${JSON.stringify(normalizedShape)} must be positive integers`);
    this.weight = this.param('weight', engine.ones(this.normalizedShape));
    this.bias = this.param('bias', engine.zeros(this.normalizedShape));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight.value, bias: this.bias.value, eps: this.eps });
  }
}
