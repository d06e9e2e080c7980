import { clampUnit, type ImageBatch } from '../batch.js';
import { areaResize, bicubicResize } from '../resize.js';
import { checkInput, checkNumber } from './check.js';

/**
 * Lost resolution at the input's size: area-averaged down to round(H / factor) × round(W / factor)
 * (at least 1 × 1), then bicubic back up to H × W and clamped to [−1, 1]. Factor 1 is the identity
 * (docs/degradations.md §4.9).
 */
export function resolutionLoss(img: ImageBatch, factor: number): ImageBatch {
  checkInput('resolutionLoss', img);
  checkNumber('resolutionLoss', 'factor', factor, 1, 64);
  const [, , h, w] = img.shape;
  const small = areaResize(img, Math.max(1, Math.round(h / factor)), Math.max(1, Math.round(w / factor)));
  const back = bicubicResize(small, h, w);
  return { data: clampUnit(back.data), shape: img.shape };
}
