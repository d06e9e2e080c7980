import { describeValue, fail } from '../engine/errors.js';
import { checkBatch, type ImageBatch } from './batch.js';

/**
 * The Y channel of ITU-R BT.601 from RGB images, on the 0…255 scale with studio swing (16…235),
 * as MATLAB's rgb2ycbcr and the SR literature's "PSNR on Y" use it: compare the results with
 * dataRange 255 (docs/degradations.md §2.3). `range` says what the input holds: 'unit' for
 * [−1, 1], 'pixels' for 0…255.
 */
export function lumaBT601(img: ImageBatch, range: 'unit' | 'pixels' = 'unit'): ImageBatch {
  checkBatch('lumaBT601', img);
  if (range !== 'unit' && range !== 'pixels') fail('lumaBT601', `range = ${describeValue(range)} must be 'unit' ([−1, 1]) or 'pixels' (0…255)`);
  const [n, c, h, w] = img.shape, plane = h * w;
  if (c !== 3) fail('lumaBT601', `needs RGB images (3 channels), not ${c}; compare grey images as they are`);
  // Weights of R, G, B in [0, 1] giving Y in 0…255 (219 · (0.299, 0.587, 0.114)).
  const wr = 65.481, wg = 128.553, wb = 24.966;
  const [scale, shift] = range === 'unit' ? [0.5, 0.5] : [1 / 255, 0];
  const out = new Float32Array(n * plane);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < plane; p++) {
      const o = i * 3 * plane + p;
      const r = img.data[o]! * scale + shift, g = img.data[o + plane]! * scale + shift, b = img.data[o + 2 * plane]! * scale + shift;
      out[i * plane + p] = 16 + wr * r + wg * g + wb * b;
    }
  return { data: out, shape: [n, 1, h, w] };
}
