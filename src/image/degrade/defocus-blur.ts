import type { ImageBatch } from '../batch.js';
import { filter2d, type Kernel2d } from '../convolve.js';
import { checkInput, checkNumber } from './check.js';

/** Sub-samples per pixel side when measuring how much of a pixel the disk covers. */
const SUPERSAMPLE = 8;

/**
 * A uniform disk of this radius (pixels) as a normalised kernel: each tap is the share of its
 * pixel square inside the disk, measured on an 8 × 8 grid, so the kernel changes smoothly with
 * the radius and radius 0 is the single tap 1 (docs/degradations.md §4.3).
 */
export function diskKernel(radius: number): Kernel2d {
  const r = Math.ceil(radius - 0.5 + 1e-9), size = 2 * Math.max(0, r) + 1;
  const weights = new Float64Array(size * size);
  if (radius <= 0) {
    weights[(size * size - 1) / 2] = 1;
    return { size, weights };
  }
  const c = (size - 1) / 2;
  let total = 0;
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++) {
      let inside = 0;
      for (let a = 0; a < SUPERSAMPLE; a++)
        for (let b = 0; b < SUPERSAMPLE; b++) {
          const y = i - c - 0.5 + (a + 0.5) / SUPERSAMPLE, x = j - c - 0.5 + (b + 0.5) / SUPERSAMPLE;
          if (x * x + y * y <= radius * radius) inside++;
        }
      weights[i * size + j] = inside;
      total += inside;
    }
  // A radius below a sub-sample spacing may cover no sub-sample: it is still the identity.
  if (total === 0) weights[(size * size - 1) / 2] = total = 1;
  for (let k = 0; k < weights.length; k++) weights[k]! /= total;
  return { size, weights };
}

/** Out-of-focus blur: convolution with diskKernel(radius), edges repeated. */
export function defocusBlur(img: ImageBatch, radius: number): ImageBatch {
  checkInput('defocusBlur', img);
  checkNumber('defocusBlur', 'radius', radius, 0, 32);
  return filter2d(img, diskKernel(radius));
}
