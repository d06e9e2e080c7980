/**
 * The classical baseline of the inpainting measures (docs/diffusion.md, "Evaluating the tasks"):
 * fill a hole by diffusing the known pixels into it. The hole starts at the mean of the image's
 * known pixels (per channel); then, repeatedly, the image is blurred with a small Gaussian and
 * only the hole takes the blurred values, until no hole pixel moves by more than `tolerance`. The
 * fixed point is a smooth membrane spanning the hole's border (a discrete harmonic fill): what a
 * method that knows nothing but the surrounding pixels can do.
 */
import { fail } from '../../engine/errors.js';
import { checkBatch, type ImageBatch } from '../../image/batch.js';
import { filter2d, type Kernel2d } from '../../image/convolve.js';

export interface BlurFillOptions {
  /** σ of the Gaussian in pixels (default 1; taps out to 2σ). */
  sigma?: number;
  /** Stop when no hole value changes by more than this (default 1e-4, in the image's units). */
  tolerance?: number;
  /** At most this many blur passes (default 2000). */
  maxIterations?: number;
}

function gaussianKernel(sigma: number): Kernel2d {
  const r = Math.max(1, Math.ceil(2 * sigma)), size = 2 * r + 1;
  const weights = new Float64Array(size * size);
  let sum = 0;
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++) sum += weights[i * size + j] = Math.exp(-((i - r) ** 2 + (j - r) ** 2) / (2 * sigma * sigma));
  for (let k = 0; k < weights.length; k++) weights[k]! /= sum;
  return { size, weights };
}

/** The mask's length checked against the batch: one value per pixel, shared by the channels. */
function checkMask(op: string, img: ImageBatch, mask: ArrayLike<number>): void {
  checkBatch(op, img);
  const [n, , H, W] = img.shape;
  if (mask.length !== n * H * W) fail(op, `mask has ${mask.length} values, [${n}, 1, ${H}, ${W}] needs ${n * H * W}`);
}

/**
 * `img` with every hole pixel (mask 1) set to the mean of its image's known pixels, channel by
 * channel (0 where an image has none): the crudest fill, and blurFill's starting point.
 */
export function meanColourFill(img: ImageBatch, mask: ArrayLike<number>): ImageBatch {
  checkMask('meanColourFill', img, mask);
  const [n, C, H, W] = img.shape, plane = H * W;
  const data = Float32Array.from(img.data);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < C; c++) {
      const base = (i * C + c) * plane;
      let sum = 0, known = 0;
      for (let p = 0; p < plane; p++) if (!mask[i * plane + p]) { sum += data[base + p]!; known++; }
      const mean = known ? sum / known : 0;
      for (let p = 0; p < plane; p++) if (mask[i * plane + p]) data[base + p] = mean;
    }
  return { data, shape: img.shape };
}

/**
 * `img` with the pixels where `mask` is 1 filled by blur diffusion; mask: n · H · W values (one
 * per pixel, shared by the channels), 1 = hole, 0 = known. Known pixels are returned unchanged; an
 * image with no known pixel is filled with 0.
 */
export function blurFill(img: ImageBatch, mask: ArrayLike<number>, opts: BlurFillOptions = {}): ImageBatch {
  const op = 'blurFill';
  checkMask(op, img, mask);
  const [n, C, H, W] = img.shape, plane = H * W;
  const sigma = opts.sigma ?? 1, tolerance = opts.tolerance ?? 1e-4, maxIterations = opts.maxIterations ?? 2000;
  if (!(sigma > 0 && sigma <= 16)) fail(op, `sigma = ${sigma} must be a number above 0, at most 16`);
  if (!(tolerance > 0)) fail(op, `tolerance = ${tolerance} must be above 0`);
  if (!Number.isInteger(maxIterations) || maxIterations < 1) fail(op, `maxIterations = ${maxIterations} must be a positive integer`);
  const kernel = gaussianKernel(sigma);
  const x = meanColourFill(img, mask), data = x.data;
  const holes: number[] = [];
  for (let i = 0; i < n; i++)
    for (let c = 0; c < C; c++)
      for (let p = 0; p < plane; p++) if (mask[i * plane + p]) holes.push((i * C + c) * plane + p);
  for (let it = 0; it < maxIterations && holes.length; it++) {
    const blurred = filter2d(x, kernel).data;
    let moved = 0;
    for (const k of holes) {
      moved = Math.max(moved, Math.abs(blurred[k]! - data[k]!));
      data[k] = blurred[k]!;
    }
    if (moved <= tolerance) break;
  }
  return x;
}
