import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { countsFromRatio, SEED_CLASSES, SEED_VIEWS, seedImages, seedSplit, type SeedDataset } from '../../src/data/seeds/index.js';

const perImage = (d: SeedDataset, i: number): Uint8Array => {
  const n = d.shape[0] * d.shape[1] * d.shape[2];
  return d.images.subarray(i * n, (i + 1) * n);
};
const digest = (a: Uint8Array): string => createHash('sha256').update(a).digest('hex');

/** Per class: mean share of dark pixels (luminance < 110) and of kernel pixels (far from the backdrop, read at the corners). */
function classStats(d: SeedDataset): Array<{ dark: number; kernel: number }> {
  const size = d.shape[1], S = size * size;
  const acc = SEED_CLASSES.map(() => ({ dark: 0, kernel: 0, n: 0 }));
  for (let i = 0; i < d.count; i++) {
    const img = perImage(d, i);
    const bg = [0, 1, 2].map((c) => (img[c * S]! + img[c * S + size - 1]! + img[c * S + S - size]! + img[c * S + S - 1]!) / 4);
    const s = acc[d.labels[i]!]!;
    for (let p = 0; p < S; p++) {
      const r = img[p]!, g = img[S + p]!, b = img[2 * S + p]!;
      if (0.299 * r + 0.587 * g + 0.114 * b < 110) s.dark++;
      if (Math.max(Math.abs(r - bg[0]!), Math.abs(g - bg[1]!), Math.abs(b - bg[2]!)) > 40) s.kernel++;
    }
    s.n++;
  }
  return acc.map((s) => ({ dark: s.dark / (s.n * S), kernel: s.kernel / (s.n * S) }));
}

describe('procedural seed images', () => {
  it('are the same bytes for the same seed and differ for another seed', () => {
    const opts = { counts: [3, 2, 2, 1], size: 32, seed: 5 };
    const a = seedImages(opts), b = seedImages(opts), c = seedImages({ ...opts, seed: 6 });
    expect(digest(a.images)).toBe(digest(b.images));
    expect([...a.labels]).toEqual([...b.labels]);
    expect([...a.views]).toEqual([...b.views]);
    expect(digest(a.images)).not.toBe(digest(c.images));
    expect(a.shape).toEqual([3, 32, 32]);
    expect(a.images.length).toBe(8 * 3 * 32 * 32);
    const big = seedImages({ ...opts, size: 64 });
    expect(big.shape).toEqual([3, 64, 64]);
  });

  it('has exactly the asked class counts, from a ratio too, with the classes mixed', () => {
    const counts = countsFromRatio([9, 7, 6, 1], 230);
    expect(counts).toEqual([90, 70, 60, 10]);
    expect(countsFromRatio([1, 1, 1, 0], 10)).toEqual([4, 3, 3, 0]);
    expect(countsFromRatio([9, 7, 6, 1], 17).reduce((a, b) => a + b)).toBe(17);
    const d = seedImages({ counts: [9, 7, 6, 1], size: 32, seed: 1 });
    const got = SEED_CLASSES.map((_, k) => d.labels.filter((l) => l === k).length);
    expect(got).toEqual([9, 7, 6, 1]);
    expect([...d.labels.slice(0, 9)].every((l) => l === 0)).toBe(false);
  });

  it('keeps the held-out images apart from the training images', () => {
    const { train, test } = seedSplit({ train: [10, 10, 10, 10], test: [5, 5, 5, 5], size: 32, seed: 3 });
    const seen = new Set(Array.from({ length: train.count }, (_, i) => digest(perImage(train, i))));
    expect(seen.size).toBe(train.count);
    for (let i = 0; i < test.count; i++) expect(seen.has(digest(perImage(test, i)))).toBe(false);
    expect(test.count).toBe(20);
  });

  it('draws the view asked for, and both views when not told', () => {
    expect(seedImages({ counts: [4, 0, 0, 0], size: 32, seed: 2, view: 'bottom' }).views.every((v) => v === SEED_VIEWS.indexOf('bottom'))).toBe(true);
    const both = seedImages({ counts: [10, 10, 10, 10], size: 32, seed: 2 });
    expect(new Set(both.views).size).toBe(2);
  });

  it('gives each defect class its own pixel statistics', () => {
    const [pure, discoloured, broken, silkcut] = classStats(seedImages({ counts: [25, 25, 25, 25], size: 32, seed: 11 }));
    // Stains and cracks are dark; a pure kernel has no dark pixels to speak of.
    expect(discoloured!.dark).toBeGreaterThan(pure!.dark + 0.005);
    expect(silkcut!.dark).toBeGreaterThan(pure!.dark + 0.005);
    // A broken kernel lost a piece: clearly fewer kernel pixels than a whole one.
    expect(broken!.kernel).toBeLessThan(0.85 * pure!.kernel);
    expect(Math.abs(silkcut!.kernel - pure!.kernel)).toBeLessThan(0.1 * pure!.kernel);
  });

  it('refuses bad options in one line', () => {
    expect(() => seedImages({ counts: [1, 1, 1, 1], size: 48, seed: 0 })).toThrow(/^seedImages: size 48 must be 32 or 64$/);
    expect(() => seedImages({ counts: [1, 1, 1], size: 32, seed: 0 })).toThrow(/counts .* must be 4 non-negative integers/);
    expect(() => seedImages({ counts: [1, -1, 1, 1], size: 32, seed: 0 })).toThrow(/must be 4 non-negative integers/);
    expect(() => seedImages({ counts: [1, 1, 1, 1], size: 32, seed: -1 })).toThrow(/seed = -1 must be an integer/);
    expect(() => seedImages({ counts: [1, 1, 1, 1], size: 32, seed: 0, view: 'side' as 'top' })).toThrow(/view "side" must be top, bottom or both/);
    expect(() => countsFromRatio([0, 0, 0, 0], 5)).toThrow(/at least one positive/);
  });
});
