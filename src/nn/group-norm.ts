import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { groupNorm } from '../ops/index.js';
import { Module } from './module.js';
import type { Param } from './param.js';

/** GroupNorm over [N, C, ...] with a learned per-channel scale (ones) and shift (zeros), as PyTorch. */
export class GroupNorm extends Module {
  readonly weight: Param;
  readonly bias: Param;

  constructor(engine: Engine, readonly groups: number, readonly channels: number, readonly eps = 1e-5) {
    super(engine);
    if (!Number.isInteger(groups) || groups < 1 || !Number.isInteger(channels) || channels % groups !== 0)
      fail('GroupNorm', `groups = ${groups} must be a positive integer dividing channels = ${channels}`);
    this.weight = this.param('weight', engine.ones([channels]));
    this.bias = this.param('bias', engine.zeros([channels]));
  }

  forward(x: Tensor): Tensor {
    return groupNorm(x, this.groups, { weight: this.weight.value, bias: this.bias.value, eps: this.eps });
  }
}
