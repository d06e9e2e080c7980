import type { Rng } from '../../data/rng.js';
import type { Engine } from '../../engine/engine.js';
import { Conv2d } from '../../nn/conv2d.js';
import { Linear } from '../../nn/linear.js';
import { SpectralNorm } from '../../nn/spectral-norm.js';

/** Spectrally normalised layers, each with its own power-iteration start drawn from `rng`. */
export const snConv = (engine: Engine, inC: number, outC: number, k: 1 | 3, rng: Rng): SpectralNorm<Conv2d> =>
  new SpectralNorm(engine, new Conv2d(engine, inC, outC, k, { padding: k === 3 ? 'same' : 'valid', rng }), { seed: rng.below(2 ** 31) });

export const snLinear = (engine: Engine, inF: number, outF: number, rng: Rng, bias = true): SpectralNorm<Linear> =>
  new SpectralNorm(engine, new Linear(engine, inF, outF, { rng, bias }), { seed: rng.below(2 ** 31) });
