import type { ImageDataset } from '../data/dataset.js';
import { fail } from '../engine/errors.js';
import { checkBatch, type BatchShape, type ImageBatch } from './batch.js';

/**
 * Pixels 0…255 ↔ the models' [−1, 1]: v / 127.5 − 1 and (x + 1) · 127.5, the same map as
 * diffusionImageData and DiffusionModel.sample's 'pixels' output.
 */
export function pixelsToUnit(pixels: ArrayLike<number>, shape: BatchShape): ImageBatch {
  const data = new Float32Array(pixels.length);
  for (let i = 0; i < data.length; i++) data[i] = pixels[i]! / 127.5 - 1;
  return checkBatch('pixelsToUnit', { data, shape });
}

/** [−1, 1] → 0…255 floats, clamped, not rounded (round them yourself for an 8-bit file). */
export function unitToPixels(img: ImageBatch): Float32Array {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, (img.data[i]! + 1) * 127.5));
  return out;
}

/** The dataset's images at `indices` as a batch in [−1, 1]. */
export function datasetBatch(d: ImageDataset, indices: readonly number[]): ImageBatch {
  const [c, h, w] = d.shape, size = c * h * w;
  const data = new Float32Array(indices.length * size);
  indices.forEach((src, n) => {
    if (!Number.isInteger(src) || src < 0 || src >= d.count) fail('datasetBatch', `index ${src} is outside the ${d.count} images of ${d.name}`);
    for (let j = 0; j < size; j++) data[n * size + j] = d.images[src * size + j]! / 127.5 - 1;
  });
  return { data, shape: [indices.length, c, h, w] };
}
