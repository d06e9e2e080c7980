import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import * as ops from '../ops/index.js';
import { Module } from './module.js';

/** The dropout op's expected form: zero each value with probability p, scale the rest by 1/(1−p); same mask for the same seed. */
type DropoutOp = (x: Tensor, p: number, opts?: { seed?: number }) => Tensor;

/**
 * Dropout: the identity in eval mode; in train mode the `dropout` op of src/ops (a counter-based
 * generator, the same masks on every backend). Call i of this module uses seed + i, so a run with
 * the same seed draws the same masks.
 */
export class Dropout extends Module {
  /** Training-mode calls so far (the per-call seed offset). */
  calls = 0;

  constructor(engine: Engine, readonly p = 0.5, readonly seed = 0) {
    super(engine);
    if (!(p >= 0 && p < 1)) fail('Dropout', `p = ${p} must be in [0, 1)`);
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const dropout = (ops as unknown as Record<string, unknown>)['dropout'] as DropoutOp | undefined;
    if (typeof dropout !== 'function')
      fail(this.path, 'training mode needs the dropout op, which src/ops does not have yet; call eval() on the model (dropout is the identity there) or set p = 0');
    return dropout(x, this.p, { seed: this.seed + this.calls++ });
  }
}
