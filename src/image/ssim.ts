import { fail } from '../engine/errors.js';
import { checkBatch, checkSameShape, type ImageBatch } from './batch.js';
import { checkDataRange } from './psnr.js';

/** Wang et al. 2004's constants; the window is 2 · round(3.5 σ) + 1 = 11 taps (docs/degradations.md §2.2). */
export const SSIM_SIGMA = 1.5;
export const SSIM_K1 = 0.01;
export const SSIM_K2 = 0.03;
const RADIUS = Math.floor(3.5 * SSIM_SIGMA + 0.5);
export const SSIM_WINDOW = 2 * RADIUS + 1;

const WEIGHTS = (() => {
  const g = Array.from({ length: SSIM_WINDOW }, (_, i) => Math.exp(-((i - RADIUS) ** 2) / (2 * SSIM_SIGMA * SSIM_SIGMA)));
  const sum = g.reduce((s, v) => s + v, 0);
  return Float64Array.from(g, (v) => v / sum);
})();

/**
 * SSIM of each image of `b` against the same image of `a`: per channel, the mean of the SSIM map
 * over the positions where the 11×11 Gaussian window lies inside the image, then the mean over
 * channels. Equals skimage's structural_similarity(gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=dataRange, channel_axis=0).
 */
export function ssimPerImage(a: ImageBatch, b: ImageBatch, dataRange: number): Float64Array {
  checkBatch('ssim', a, 'first image');
  checkBatch('ssim', b, 'second image');
  checkSameShape('ssim', a, b);
  const R = checkDataRange('ssim', dataRange);
  const [n, c, h, w] = a.shape;
  if (h < SSIM_WINDOW || w < SSIM_WINDOW)
    fail('ssim', `images of ${h}×${w} are smaller than SSIM's ${SSIM_WINDOW}×${SSIM_WINDOW} Gaussian window`);
  const c1 = (SSIM_K1 * R) ** 2, c2 = (SSIM_K2 * R) ** 2;
  const hv = h - 2 * RADIUS, wv = w - 2 * RADIUS;
  // Five moments (x, y, x², y², xy), filtered separably: rows first (all rows, valid columns), then columns.
  const rows = Array.from({ length: 5 }, () => new Float64Array(h * wv));
  const maps = Array.from({ length: 5 }, () => new Float64Array(hv * wv));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * h * w;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < wv; x++) {
          let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
          for (let k = 0; k < SSIM_WINDOW; k++) {
            const j = base + y * w + x + k, g = WEIGHTS[k]!;
            const u = a.data[j]!, v = b.data[j]!;
            sx += g * u; sy += g * v; sxx += g * u * u; syy += g * v * v; sxy += g * u * v;
          }
          const o = y * wv + x;
          rows[0]![o] = sx; rows[1]![o] = sy; rows[2]![o] = sxx; rows[3]![o] = syy; rows[4]![o] = sxy;
        }
      for (let m = 0; m < 5; m++) {
        const src = rows[m]!, dst = maps[m]!;
        for (let y = 0; y < hv; y++)
          for (let x = 0; x < wv; x++) {
            let s = 0;
            for (let k = 0; k < SSIM_WINDOW; k++) s += WEIGHTS[k]! * src[(y + k) * wv + x]!;
            dst[y * wv + x] = s;
          }
      }
      let sum = 0;
      for (let o = 0; o < hv * wv; o++) {
        const ux = maps[0]![o]!, uy = maps[1]![o]!;
        const vx = maps[2]![o]! - ux * ux, vy = maps[3]![o]! - uy * uy, vxy = maps[4]![o]! - ux * uy;
        sum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      }
      if (!Number.isFinite(sum)) fail('ssim', `image ${i} channel ${ch} holds a value that is not finite`);
      total += sum / (hv * wv);
    }
    out[i] = total / c;
  }
  return out;
}

/** The mean of ssimPerImage over the batch. */
export function ssim(a: ImageBatch, b: ImageBatch, dataRange: number): number {
  const per = ssimPerImage(a, b, dataRange);
  return per.reduce((s, v) => s + v, 0) / per.length;
}
