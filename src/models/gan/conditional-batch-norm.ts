import type { Engine } from '../../engine/engine.js';
import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { BatchNorm2d } from '../../nn/batch-norm.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { add, mul, reshape } from '../../ops/index.js';

/**
 * Conditional BatchNorm (docs/gan.md §2): a BatchNorm without its own γ, β, then per example
 * y = x̂·(1 + c·W_γ) + c·W_β, c [N, condDim] the class condition (a one-hot row, or a shared class
 * embedding as BigGAN). W_γ and W_β start at zero, so a new layer is the plain normalisation.
 */
export class ConditionalBatchNorm2d extends Module {
  readonly bn: BatchNorm2d;
  readonly gain: Linear;
  readonly bias: Linear;

  constructor(engine: Engine, readonly channels: number, readonly condDim: number, opts: { eps?: number; momentum?: number } = {}) {
    super(engine);
    if (!Number.isInteger(condDim) || condDim < 1) fail('ConditionalBatchNorm2d', `condDim = ${condDim} must be a positive integer`);
    this.bn = this.child('bn', new BatchNorm2d(engine, channels, { ...opts, affine: false }));
    this.gain = this.child('gain', new Linear(engine, condDim, channels, { bias: false, weightInit: 'zeros' }));
    this.bias = this.child('bias', new Linear(engine, condDim, channels, { bias: false, weightInit: 'zeros' }));
  }

  /** x [N, C, H, W], cond [N, condDim]. */
  forward(x: Tensor, cond: Tensor): Tensor {
    const n = x.shape[0]!;
    if (cond.rank !== 2 || cond.shape[0] !== n || cond.shape[1] !== this.condDim)
      fail(this.path, `condition ${shapeStr(cond.shape)} must be [${n}, ${this.condDim}]`);
    const per = (t: Tensor) => reshape(t, [n, this.channels, 1, 1]);
    return add(mul(this.bn.forward(x), add(per(this.gain.forward(cond)), 1)), per(this.bias.forward(cond)));
  }
}
