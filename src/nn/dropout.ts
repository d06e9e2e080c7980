import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { dropout } from '../ops/index.js';
import { Module } from './module.js';

/**
 * Dropout: the identity in eval mode; in train mode the `dropout` op (zero each value with
 * probability p, scale the rest by 1/(1−p); a counter-based generator, so a seed gives the same
 * mask on every backend). Call i of this module in train mode uses seed + i: a run with the same
 * seed draws the same masks. `calls` is not in the state dict: training checkpoints keep it
 * (src/train/loop.ts), so a resumed run draws the masks an uninterrupted one would.
 */
export class Dropout extends Module {
  /** Training-mode calls so far (the per-call seed offset). */
  calls = 0;

  constructor(engine: Engine, readonly p = 0.5, readonly seed = 0) {
    super(engine);
    if (!(p >= 0 && p < 1)) fail('Dropout', `p = ${p} must be in [0, 1)`);
    if (!Number.isInteger(seed) || seed < 0) fail('Dropout', `seed = ${seed} must be a non-negative integer`);
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, { seed: this.seed + this.calls++ });
  }
}
