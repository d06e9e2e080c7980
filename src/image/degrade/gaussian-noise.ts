import { clampUnit, type ImageBatch } from '../batch.js';
import { toRng, type RngOrSeed } from '../rng-arg.js';
import { checkInput, checkNumber } from './check.js';

/** x + σ·n, n standard normal per value, clamped to [−1, 1]; σ in [−1, 1] units (one 8-bit level is 2/255; docs/degradations.md §4.1). */
export function gaussianNoise(img: ImageBatch, sigma: number, rng: RngOrSeed): ImageBatch {
  checkInput('gaussianNoise', img);
  checkNumber('gaussianNoise', 'sigma', sigma, 0, 2);
  const r = toRng('gaussianNoise', rng);
  const data = img.data.slice();
  if (sigma > 0) for (let i = 0; i < data.length; i++) data[i] = data[i]! + sigma * r.normal();
  return { data: clampUnit(data), shape: img.shape };
}
