import { clampUnit, type ImageBatch } from '../batch.js';
import { toRng, type RngOrSeed } from '../rng-arg.js';
import { checkInput, checkNumber } from './check.js';
import { samplePoisson } from './poisson.js';

/**
 * Shot noise: intensity p = (x + 1)/2 in [0, 1] becomes k / peak with k ~ Poisson(p · peak), as
 * if white collected `peak` photons (docs/degradations.md §4.2). Fewer photons, more noise; black
 * stays black; peak = ∞ is the identity.
 */
export function poissonNoise(img: ImageBatch, peak: number, rng: RngOrSeed): ImageBatch {
  checkInput('poissonNoise', img);
  checkNumber('poissonNoise', 'peak', peak, 1e-3, Infinity);
  const r = toRng('poissonNoise', rng);
  const data = img.data.slice();
  if (peak !== Infinity)
    for (let i = 0; i < data.length; i++) data[i] = (2 * samplePoisson(((data[i]! + 1) / 2) * peak, r)) / peak - 1;
  return { data: clampUnit(data), shape: img.shape };
}
