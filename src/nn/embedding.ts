import type { Rng } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { gather, matmul } from '../ops/index.js';
import { defaultInitRng, initialValues, normalInit, type Initializer } from './init.js';
import { Module } from './module.js';
import type { Param } from './param.js';

/**
 * A lookup table: row i of weight [count, dim] for each index i, by the gather op (its gradient
 * adds into the rows used). fromOneHot takes one-hot (or soft) rows instead, as a matmul.
 */
export class Embedding extends Module {
  readonly weight: Param;

  constructor(engine: Engine, readonly count: number, readonly dim: number, opts: { rng?: Rng; init?: Initializer } = {}) {
    super(engine);
    for (const [k, v] of [['count', count], ['dim', dim]] as const)
      if (!Number.isInteger(v) || v < 1) fail('Embedding', `${k} = ${v} must be a positive integer`);
    this.weight = this.param('weight', engine.tensor(initialValues(opts.init ?? normalInit(1), count * dim, dim, opts.rng ?? defaultInitRng()), [count, dim]));
  }

  /** Rows for integer indices: [indices.length, dim]. */
  forward(indices: ArrayLike<number>): Tensor {
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i]!;
      if (!Number.isInteger(k) || k < 0 || k >= this.count)
        fail(this.path, `index ${k} at position ${i} is outside 0…${this.count - 1}`);
    }
    return this.engine.scope(() => gather(this.weight.value, this.engine.tensor(indices, [indices.length])));
  }

  /** oneHot [N, count] · weight: rows for one-hot (or soft) indices. */
  fromOneHot(oneHot: Tensor): Tensor {
    if (oneHot.rank !== 2 || oneHot.shape[1] !== this.count)
      fail(this.path, `one-hot input must be [N, ${this.count}], got ${shapeStr(oneHot.shape)}`);
    return matmul(oneHot, this.weight.value);
  }
}
