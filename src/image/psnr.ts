import { describeValue, fail } from '../engine/errors.js';
import { checkBatch, checkSameShape, type ImageBatch } from './batch.js';

/** The width of the value range (255 for pixels, 2 for [−1, 1]): PSNR and SSIM are relative to it. */
export function checkDataRange(op: string, dataRange: unknown): number {
  if (typeof dataRange !== 'number' || !Number.isFinite(dataRange) || dataRange <= 0)
    fail(op, `dataRange = ${describeValue(dataRange)} must be a positive number (255 for pixels 0…255, 2 for [−1, 1])`);
  return dataRange;
}

/**
 * PSNR of each image of `b` against the same image of `a`, in dB: 10 · log10(R² / MSE) with the
 * MSE over all its channels and pixels (docs/degradations.md §2.1). Identical images give +∞.
 */
export function psnrPerImage(a: ImageBatch, b: ImageBatch, dataRange: number): Float64Array {
  checkBatch('psnr', a, 'first image');
  checkBatch('psnr', b, 'second image');
  checkSameShape('psnr', a, b);
  const R = checkDataRange('psnr', dataRange);
  const [n, c, h, w] = a.shape, size = c * h * w;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = i * size; j < (i + 1) * size; j++) {
      const d = a.data[j]! - b.data[j]!;
      if (!Number.isFinite(d)) fail('psnr', `value ${describeValue(Number.isFinite(a.data[j]!) ? b.data[j]! : a.data[j]!)} at index ${j} is not finite`);
      sum += d * d;
    }
    out[i] = 10 * Math.log10((R * R) / (sum / size));
  }
  return out;
}

/** The mean of psnrPerImage, the figure SR papers report for a test set: +∞ as soon as one image equals its reference. */
export function psnr(a: ImageBatch, b: ImageBatch, dataRange: number): number {
  const per = psnrPerImage(a, b, dataRange);
  return per.reduce((s, v) => s + v, 0) / per.length;
}
