import type { ImageBatch } from '../batch.js';
import { filter2d, type Kernel2d } from '../convolve.js';
import { checkInput, checkNumber } from './check.js';

/**
 * A straight camera shake: a segment of `length` pixels through the centre at `angle` radians
 * (0 = horizontal, counter-clockwise with y up), as a normalised kernel. Points every 1/8 pixel
 * along it are spread over their four nearest taps (bilinear), so the kernel changes smoothly
 * with length and angle; length 0 is the single tap 1 (docs/degradations.md §4.4).
 */
export function lineKernel(length: number, angle: number): Kernel2d {
  const r = Math.ceil(length / 2) + 1, size = 2 * r + 1;
  const weights = new Float64Array(size * size);
  const steps = Math.max(1, Math.ceil(length * 8));
  const dx = Math.cos(angle), dy = -Math.sin(angle);
  for (let s = 0; s <= steps; s++) {
    const t = (s / steps - 0.5) * length;
    const x = r + t * dx, y = r + t * dy;
    const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
    weights[y0 * size + x0]! += (1 - fx) * (1 - fy);
    weights[y0 * size + x0 + 1]! += fx * (1 - fy);
    weights[(y0 + 1) * size + x0]! += (1 - fx) * fy;
    weights[(y0 + 1) * size + x0 + 1]! += fx * fy;
  }
  const total = weights.reduce((a, v) => a + v, 0);
  for (let k = 0; k < weights.length; k++) weights[k]! /= total;
  return { size, weights };
}

/** Motion blur: convolution with lineKernel(length, angle), edges repeated. */
export function motionBlur(img: ImageBatch, length: number, angle: number): ImageBatch {
  checkInput('motionBlur', img);
  checkNumber('motionBlur', 'length', length, 0, 64);
  checkNumber('motionBlur', 'angle', angle, -2 * Math.PI, 2 * Math.PI);
  return filter2d(img, lineKernel(length, angle));
}
