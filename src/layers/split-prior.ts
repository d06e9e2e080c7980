import type { Engine } from '../engine/engine.js';
import { concat, split } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { AffineCoupling, affineCouplingParams, type CouplingForm } from './affine-coupling.js';
import { Rng } from '../data/rng.js';
import { SplitLayer, type SplitResult } from './split.js';
import { expectImage } from './util.js';

export interface SplitPriorConfig { kind: 'split-prior'; channels: number; width: number; form: CouplingForm; classes?: number }

export const splitPriorParams = (c: Omit<SplitPriorConfig, 'kind'>): number => affineCouplingParams(c);

/**
 * SNF / FInC SplitPrior (docs/flows.md §13): an affine coupling over all C channels, then the first ⌊C/2⌋
 * go on and the rest are scored under an unconditional N(0, I) by the container.
 */
export class SplitPrior extends SplitLayer {
  readonly config: SplitPriorConfig;
  readonly coupling: AffineCoupling;

  constructor(engine: Engine, config: { channels: number; width: number; form?: CouplingForm; classes?: number }, rng = new Rng(0)) {
    super(engine);
    this.config = { kind: 'split-prior', channels: config.channels, width: config.width, form: config.form ?? 'finc',
      ...(config.classes ? { classes: config.classes } : {}) };
    this.coupling = this.child('coupling', new AffineCoupling(engine, this.config, rng));
  }

  encode(x: Tensor): SplitResult {
    const C = expectImage('SplitPrior', x, this.config.channels)[1];
    const { y, logdet } = this.coupling.encode(x);
    const [kept, z] = split(y, [Math.floor(C / 2), C - Math.floor(C / 2)]) as [Tensor, Tensor];
    return { y: kept, z, logdet };
  }

  decode(y: Tensor, z: Tensor): Tensor {
    return this.coupling.decode(concat([y, z]));
  }
}
