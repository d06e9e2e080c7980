import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { InflowError } from '../../src/engine/errors.js';
import type { BatchShape, ImageBatch } from '../../src/image/batch.js';
import { lumaBT601 } from '../../src/image/luma.js';
import { psnr, psnrPerImage } from '../../src/image/psnr.js';
import { ssim, ssimPerImage, SSIM_K1, SSIM_K2, SSIM_SIGMA } from '../../src/image/ssim.js';

const random = (shape: BatchShape, seed: number, lo = -1, hi = 1): ImageBatch =>
  ({ data: new Rng(seed).uniforms(shape.reduce((a, b) => a * b, 1), lo, hi), shape });
const map = (img: ImageBatch, f: (v: number, i: number) => number): ImageBatch => ({ data: img.data.map(f), shape: img.shape });

/**
 * SSIM written the slow, obvious way for comparison: the full 2-D Gaussian window at every
 * position where it fits, sums in float64, no separable passes.
 */
function naiveSsim(a: ImageBatch, b: ImageBatch, R: number): number[] {
  const [n, c, h, w] = a.shape, r = 5;
  const g = (k: number) => Math.exp(-(k * k) / (2 * SSIM_SIGMA * SSIM_SIGMA));
  let norm = 0;
  for (let i = -r; i <= r; i++) for (let j = -r; j <= r; j++) norm += g(i) * g(j);
  const C1 = (SSIM_K1 * R) ** 2, C2 = (SSIM_K2 * R) ** 2;
  const out: number[] = [];
  for (let m = 0; m < n; m++) {
    let perChannel = 0;
    for (let ch = 0; ch < c; ch++) {
      let total = 0, count = 0;
      for (let y = r; y < h - r; y++)
        for (let x = r; x < w - r; x++) {
          let mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
          for (let i = -r; i <= r; i++)
            for (let j = -r; j <= r; j++) {
              const wt = (g(i) * g(j)) / norm, o = ((m * c + ch) * h + y + i) * w + x + j;
              const u = a.data[o]!, v = b.data[o]!;
              mx += wt * u; my += wt * v; mxx += wt * u * u; myy += wt * v * v; mxy += wt * u * v;
            }
          total += ((2 * mx * my + C1) * (2 * (mxy - mx * my) + C2)) / ((mx * mx + my * my + C1) * (mxx - mx * mx + myy - my * my + C2));
          count++;
        }
      perChannel += total / count;
    }
    out.push(perChannel / c);
  }
  return out;
}

describe('psnr', () => {
  it('is +∞ for identical images', () => {
    const a = random([2, 3, 8, 8], 1);
    expect(psnr(a, a, 2)).toBe(Infinity);
  });

  it('of a constant offset δ is 10·log10(R²/δ²), for [−1, 1] and for 0…255', () => {
    const a = random([1, 1, 16, 16], 2, -0.9, 0.9);
    expect(psnr(a, map(a, (v) => v + 0.02), 2)).toBeCloseTo(10 * Math.log10(4 / 0.02 ** 2), 3);
    const p = random([1, 3, 8, 8], 3, 0, 250);
    expect(psnr(p, map(p, (v) => v + 5), 255)).toBeCloseTo(10 * Math.log10(255 ** 2 / 25), 3);
  });

  it('averages the per-image PSNR over the batch', () => {
    const a = random([2, 1, 4, 4], 4, -0.5, 0.5);
    const b = map(a, (v, i) => v + (i < 16 ? 0.1 : 0.01));
    const per = psnrPerImage(a, b, 2);
    expect(per[0]).toBeCloseTo(10 * Math.log10(4 / 0.01), 3);
    expect(per[1]).toBeCloseTo(10 * Math.log10(4 / 0.0001), 3);
    expect(psnr(a, b, 2)).toBeCloseTo((per[0]! + per[1]!) / 2, 10);
  });

  it('refuses other shapes, a bad data range and non-finite values in one line', () => {
    const a = random([1, 1, 4, 4], 5);
    expect(() => psnr(a, random([1, 1, 4, 5], 5), 2)).toThrow(/psnr: the images have different shapes: \[1, 1, 4, 4\] and \[1, 1, 4, 5\]/);
    expect(() => psnr(a, a, 0)).toThrow(/dataRange = 0 must be a positive number/);
    expect(() => psnr(a, map(a, (v, i) => (i === 3 ? NaN : v)), 2)).toThrow(/value NaN at index 3 is not finite/);
    expect(() => psnr({ data: new Float32Array(3), shape: [1, 1, 2, 2] }, a, 2)).toThrow(InflowError);
  });
});

describe('ssim', () => {
  it('is 1 for identical images and symmetric in its arguments', () => {
    const a = random([2, 3, 16, 16], 6), b = random([2, 3, 16, 16], 7);
    expect(ssim(a, a, 2)).toBeCloseTo(1, 12);
    expect(ssim(a, b, 2)).toBeCloseTo(ssim(b, a, 2), 12);
  });

  it('of two constant images is (2μaμb + C1)/(μa² + μb² + C1)', () => {
    const shape: BatchShape = [1, 1, 12, 12];
    const a = { data: new Float32Array(144).fill(0.25), shape }, b = { data: new Float32Array(144).fill(-0.5), shape };
    const C1 = (SSIM_K1 * 2) ** 2;
    expect(ssim(a, b, 2)).toBeCloseTo((2 * 0.25 * -0.5 + C1) / (0.25 ** 2 + 0.25 + C1), 6);
  });

  it('matches a direct 2-D-window computation, per image and averaged over channels', () => {
    const a = random([2, 2, 13, 17], 8), b = map(a, (v, i) => v + 0.3 * Math.sin(i * 0.7));
    const ref = naiveSsim(a, b, 2);
    Array.from(ssimPerImage(a, b, 2)).forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 9));
  });

  it('stays ≤ 1 and falls as the noise grows', () => {
    const a = random([1, 3, 24, 24], 9, -0.6, 0.6);
    const noise = new Rng(10).normals(a.data.length);
    const values = [0.02, 0.1, 0.3].map((s) => ssim(a, map(a, (v, i) => v + s * noise[i]!), 2));
    values.forEach((v) => expect(v).toBeLessThanOrEqual(1));
    expect(values[0]).toBeGreaterThan(values[1]!);
    expect(values[1]).toBeGreaterThan(values[2]!);
  });

  it('refuses images smaller than its 11×11 window', () => {
    const a = random([1, 1, 10, 12], 11);
    expect(() => ssim(a, a, 2)).toThrow(/ssim: images of 10×12 are smaller than SSIM's 11×11 Gaussian window/);
  });
});

describe('lumaBT601', () => {
  it('maps black to 16 and white to 235 and weighs R, G, B by 0.299, 0.587, 0.114', () => {
    const shape: BatchShape = [1, 3, 1, 4];
    // Pixels: black, white, pure red, pure green (planar R, G, B).
    const unit = { data: Float32Array.from([-1, 1, 1, -1, -1, 1, -1, 1, -1, 1, -1, -1]), shape };
    const y = lumaBT601(unit);
    expect(y.shape).toEqual([1, 1, 1, 4]);
    expect(y.data[0]).toBeCloseTo(16, 4);
    expect(y.data[1]).toBeCloseTo(235, 3);
    expect(y.data[2]).toBeCloseTo(16 + 219 * 0.299, 3);
    expect(y.data[3]).toBeCloseTo(16 + 219 * 0.587, 3);
    const pixels = map(unit, (v) => (v + 1) * 127.5);
    Array.from(lumaBT601(pixels, 'pixels').data).forEach((v, i) => expect(v).toBeCloseTo(y.data[i]!, 3));
  });

  it('refuses a grey image', () => {
    expect(() => lumaBT601(random([1, 1, 4, 4], 12))).toThrow(/lumaBT601: needs RGB images \(3 channels\), not 1/);
  });
});
