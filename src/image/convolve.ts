import { fail } from '../engine/errors.js';
import { checkBatch, type ImageBatch } from './batch.js';

/** A square k × k filter (k odd), row-major, centred on its middle tap. */
export interface Kernel2d {
  size: number;
  weights: Float64Array;
}

/**
 * Each channel filtered by `kernel` (correlation: out(y, x) = Σ k(i, j) · in(y + i − r, x + j − r)),
 * pixels beyond the edge taken as the nearest edge pixel, so a constant image stays constant
 * when the weights sum to 1 (docs/degradations.md §4.3).
 */
export function filter2d(img: ImageBatch, kernel: Kernel2d): ImageBatch {
  checkBatch('filter2d', img);
  const { size, weights } = kernel ?? {};
  if (!(weights instanceof Float64Array) || !Number.isSafeInteger(size)) fail('filter2d', 'kernel must be { size, weights: Float64Array }');
  if (size % 2 !== 1 || weights.length !== size * size) fail('filter2d', `a kernel must be k × k with k odd, not ${size} with ${weights.length} weights`);
  const [n, c, h, w] = img.shape, r = (size - 1) / 2, pw = w + 2 * r, ph = h + 2 * r;
  // Each plane is copied once into a frame of repeated edge pixels, so the tap loop needs no bounds checks.
  const padded = new Float64Array(ph * pw);
  // Taps with zero weight (most of a motion-blur line's square) are skipped.
  const offsets: number[] = [], wts: number[] = [];
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++)
      if (weights[i * size + j] !== 0) {
        offsets.push(i * pw + j);
        wts.push(weights[i * size + j]!);
      }
  const off = Int32Array.from(offsets), wt = Float64Array.from(wts), taps = off.length;
  const out = new Float32Array(img.data.length);
  for (let p = 0; p < n * c; p++) {
    const base = p * h * w;
    for (let y = 0; y < ph; y++) {
      const row = base + Math.min(h - 1, Math.max(0, y - r)) * w;
      for (let x = 0; x < pw; x++) padded[y * pw + x] = img.data[row + Math.min(w - 1, Math.max(0, x - r))]!;
    }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const at = y * pw + x;
        let s = 0;
        for (let k = 0; k < taps; k++) s += wt[k]! * padded[at + off[k]!]!;
        out[base + y * w + x] = s;
      }
  }
  return { data: out, shape: [n, c, h, w] };
}
