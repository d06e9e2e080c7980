import type { Rng } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { add, matmul, reshape } from '../ops/index.js';
import { defaultInitRng, initialValues, uniformFanIn, type Initializer } from './init.js';
import { Module } from './module.js';
import type { Param } from './param.js';

export interface LinearOptions {
  /** A learned bias (default true). */
  bias?: boolean;
  rng?: Rng;
  /** Default: U(±1/√in) for both, as PyTorch. */
  weightInit?: Initializer;
  biasInit?: Initializer;
}

/**
 * y = x·W + b over the last axis. The weight is stored [in, out] (x·W needs no transpose; a PyTorch
 * Linear's [out, in] weight is its transpose). Takes [N, in] or [..., in] (rank ≤ 4).
 */
export class Linear extends Module {
  readonly weight: Param;
  readonly bias: Param | null;

  constructor(engine: Engine, readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super(engine);
    for (const [k, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const)
      if (!Number.isInteger(v) || v < 1) fail('Linear', `${k} = ${v} must be a positive integer`);
    const rng = opts.rng ?? defaultInitRng();
    this.weight = this.param('weight', engine.tensor(initialValues(opts.weightInit ?? uniformFanIn, inFeatures * outFeatures, inFeatures, rng), [inFeatures, outFeatures]));
    this.bias = opts.bias === false ? null
      : this.param('bias', engine.tensor(initialValues(opts.biasInit ?? uniformFanIn, outFeatures, inFeatures, rng), [outFeatures]));
  }

  forward(x: Tensor): Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures)
      fail(this.path, `Linear(${this.inFeatures} → ${this.outFeatures}) takes [..., ${this.inFeatures}], got ${shapeStr(x.shape)}`);
    const flat = x.rank === 2 ? x : reshape(x, [x.size / this.inFeatures, this.inFeatures]);
    let y = matmul(flat, this.weight.value);
    if (this.bias) y = add(y, this.bias.value);
    return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
  }
}
