import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import type { BatchShape, ImageBatch } from '../../src/image/batch.js';
import { areaResize, bicubicResize, bicubicUpsample, boxDownsample, keysCubic } from '../../src/image/resize.js';

const fill = (shape: BatchShape, f: (y: number, x: number, c: number) => number): ImageBatch => {
  const [n, c, h, w] = shape, data = new Float32Array(n * c * h * w);
  for (let i = 0; i < n * c; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(i * h + y) * w + x] = f(y, x, i % c);
  return { data, shape };
};
const mean = (d: Float32Array): number => d.reduce((s, v) => s + v, 0) / d.length;

/** Output index i of an L → M resize samples the input at (i + ½)·L/M − ½ (half-pixel centres). */
const source = (i: number, L: number, M: number): number => ((i + 0.5) * L) / M - 0.5;
/** Output indices whose four bicubic taps all lie inside the input (no repeated edge). */
const interior = (L: number, M: number): number[] =>
  [...Array(M).keys()].filter((i) => Math.floor(source(i, L, M)) - 1 >= 0 && Math.floor(source(i, L, M)) + 2 <= L - 1);

describe('bicubic (Keys, a = −0.5)', () => {
  it("has Keys' kernel: 1 at 0, 0 at the other integers, and weights summing to 1 at any offset", () => {
    expect(keysCubic(0)).toBe(1);
    for (const d of [1, 2, -1, -2, 2.5]) expect(keysCubic(d)).toBe(0);
    for (const t of [0.1, 0.25, 0.5, 0.9]) expect(keysCubic(t + 1) + keysCubic(t) + keysCubic(1 - t) + keysCubic(2 - t)).toBeCloseTo(1, 12);
  });

  it('keeps a constant image constant, enlarging by a whole or an odd factor', () => {
    const img = fill([2, 3, 7, 5], (_y, _x, c) => [-0.3, 0.2, 0.9][c]!);
    for (const [h, w] of [[28, 20], [13, 11]] as const) {
      const up = bicubicResize(img, h, w);
      expect(up.shape).toEqual([2, 3, h, w]);
      for (let i = 0; i < up.data.length; i++) expect(up.data[i]).toBeCloseTo([-0.3, 0.2, 0.9][Math.floor(i / (h * w)) % 3]!, 6);
    }
  });

  it('reproduces a quadratic exactly away from the edges, sampled at half-pixel centres', () => {
    const f = (y: number, x: number): number => 0.01 * x * x - 0.02 * x * y + 0.05 * y - 0.3;
    const img = fill([1, 1, 9, 11], f);
    const up = bicubicUpsample(img, 4);
    for (const y of interior(9, 36)) for (const x of interior(11, 44)) expect(up.data[y * 44 + x]).toBeCloseTo(f(source(y, 9, 36), source(x, 11, 44)), 5);
  });

  it('is the identity at factor 1', () => {
    const img = { data: new Rng(1).uniforms(2 * 3 * 6 * 7, -1, 1), shape: [2, 3, 6, 7] as const };
    expect(Array.from(bicubicUpsample(img, 1).data)).toEqual(Array.from(img.data));
  });
});

describe('area (box) resizing', () => {
  it('averages each factor × factor block', () => {
    const img = { data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), shape: [1, 1, 4, 4] as const };
    expect(Array.from(boxDownsample(img, 2).data)).toEqual([(1 + 2 + 5 + 6) / 4, (3 + 4 + 7 + 8) / 4, (9 + 10 + 13 + 14) / 4, (11 + 12 + 15 + 16) / 4]);
  });

  it('keeps the mean at any ratio, whole or not', () => {
    const img = { data: new Rng(2).uniforms(2 * 1 * 28 * 19, -1, 1), shape: [2, 1, 28, 19] as const };
    for (const [h, w] of [[7, 19], [11, 5], [3, 4]] as const) {
      const small = areaResize(img, h, w);
      for (let n = 0; n < 2; n++)
        expect(mean(small.data.subarray(n * h * w, (n + 1) * h * w))).toBeCloseTo(mean(img.data.subarray(n * 532, (n + 1) * 532)), 5);
    }
  });

  it('refuses sizes that are not whole blocks, with the sizes named', () => {
    expect(() => boxDownsample({ data: new Float32Array(30), shape: [1, 1, 5, 6] }, 2)).toThrow(/boxDownsample: a 5×6 image cannot be cut into 2×2 blocks/);
    expect(() => areaResize({ data: new Float32Array(4), shape: [1, 1, 2, 2] }, 0, 1)).toThrow(/height = 0 must be a positive integer/);
    expect(() => bicubicUpsample({ data: new Float32Array(4), shape: [1, 1, 2, 2] }, 100000)).toThrow(/bicubicResize: a 200000×200000 result would hold/);
  });
});

describe('box down then bicubic up (the MNIST 4× setting)', () => {
  it('gives back a linear ramp exactly away from the edges, and close to it everywhere', () => {
    const f = (y: number, x: number): number => -0.9 + 0.05 * x + 0.02 * y;
    const ramp = fill([1, 1, 28, 28], f);
    const back = bicubicUpsample(boxDownsample(ramp, 4), 4);
    const inner = interior(7, 28);
    let worst = 0;
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        const err = Math.abs(back.data[y * 28 + x]! - f(y, x));
        if (inner.includes(y) && inner.includes(x)) expect(err).toBeLessThan(1e-5);
        worst = Math.max(worst, err);
      }
    // At the border the repeated edge pixel flattens the ramp: at most half a block (2 px) of its slope.
    expect(worst).toBeLessThanOrEqual(2 * (0.05 + 0.02) + 1e-5);
  });
});
