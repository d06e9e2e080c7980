import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { Rng } from '../data/rng.js';
import { gaussianLogProb } from './util.js';

/**
 * The base N(0, I). Samples come from the seeded host RNG, scaled by the temperature T
 * (z ~ N(0, T²I), Glow's reduced-temperature sampling), so every backend decodes the same z.
 */
export class GaussianBase {
  constructor(readonly engine: Engine) {}

  logProb(z: Tensor): Tensor { return gaussianLogProb(z); }

  sample(shape: readonly number[], rng: Rng, temperature = 1): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.engine.tensor(rng.normals(n, temperature), shape);
  }
}
