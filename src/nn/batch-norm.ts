import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { add, batchNorm, batchNormStats, mul } from '../ops/index.js';
import { Module } from './module.js';
import type { ModuleBuffer, Param } from './param.js';

/**
 * BatchNorm over [N, C, ...]: in training mode it normalises by the batch's statistics and moves the
 * running ones towards them, r ← (1 − momentum)·r + momentum·batch (the variance unbiased, as
 * PyTorch); in eval mode it normalises by the running statistics. Both are buffers of the state dict.
 */
export class BatchNorm2d extends Module {
  /** γ and β: null when built with affine: false (conditional BatchNorm supplies its own). */
  readonly weight: Param | null;
  readonly bias: Param | null;
  readonly runningMean: ModuleBuffer;
  readonly runningVar: ModuleBuffer;

  constructor(engine: Engine, readonly channels: number, readonly opts: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super(engine);
    const momentum = opts.momentum ?? 0.1;
    if (!Number.isInteger(channels) || channels < 1) fail('BatchNorm2d', `channels = ${channels} must be a positive integer`);
    if (!(momentum >= 0 && momentum <= 1)) fail('BatchNorm2d', `momentum = ${momentum} must be in [0, 1]`);
    this.weight = opts.affine === false ? null : this.param('weight', engine.ones([channels]));
    this.bias = opts.affine === false ? null : this.param('bias', engine.zeros([channels]));
    this.runningMean = this.buffer('running_mean', engine.zeros([channels]));
    this.runningVar = this.buffer('running_var', engine.ones([channels]));
  }

  forward(x: Tensor): Tensor {
    const eps = this.opts.eps ?? 1e-5, momentum = this.opts.momentum ?? 0.1;
    const affine = { weight: this.weight?.value, bias: this.bias?.value, eps };
    if (!this.training)
      return batchNorm(x, { ...affine, training: false, runningMean: this.runningMean.value, runningVar: this.runningVar.value });
    const y = batchNorm(x, { ...affine, training: true });
    this.engine.noGrad(() => {
      const [mean, variance] = this.engine.scope(() => {
        const s = batchNormStats(x);
        const unbiased = s.count / Math.max(1, s.count - 1);
        return [
          add(mul(this.runningMean.value, 1 - momentum), mul(s.mean, momentum)),
          add(mul(this.runningVar.value, 1 - momentum), mul(s.var, momentum * unbiased)),
        ];
      });
      this.runningMean.value = mean!;
      this.runningVar.value = variance!;
    });
    return y;
  }
}
