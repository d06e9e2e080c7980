import { describe, expect, it } from 'vitest';
import { LABEL_NODATA } from '../../src/geo/geotiff.js';
import { majorityFilter } from '../../src/geo/majority-filter.js';
import { rng } from '../helpers/random.js';

const N = LABEL_NODATA;

/** The rule written out plainly: gather the window's labels, count, keep own on a tie, else the smallest. */
function naive(labels: Uint8Array, w: number, h: number, size: number): Uint8Array {
  const r = (size - 1) / 2;
  return labels.map((own, p) => {
    if (own === N) return own;
    const x = p % w, y = Math.floor(p / w), votes: number[] = [];
    for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
      const xx = x + dx, yy = y + dy;
      if (xx >= 0 && yy >= 0 && xx < w && yy < h && labels[yy * w + xx] !== N) votes.push(labels[yy * w + xx]!);
    }
    const count = (l: number) => votes.filter((v) => v === l).length;
    const top = Math.max(...votes.map(count));
    return count(own) === top ? own : Math.min(...votes.filter((v) => count(v) === top));
  });
}

describe('majorityFilter', () => {
  it('removes an isolated pixel', () => {
    const map = new Uint8Array(25); map[12] = 1;
    expect(Array.from(majorityFilter(map, 5, 5, 3))).toEqual(new Array(25).fill(0));
  });

  it('keeps the own label on a tie, else takes the smallest of the tied labels', () => {
    // A 3 × 1 strip: every window is a tie that includes the pixel's own label.
    expect(Array.from(majorityFilter(Uint8Array.from([1, 0, 2]), 3, 1, 3))).toEqual([1, 0, 2]);
    // Centre 3 (one vote) among 0, 1, 2 with two votes each: the smallest, 0.
    const map = Uint8Array.from([0, 0, 1, 1, 3, 2, 2, 4, 5]);
    expect(majorityFilter(map, 3, 3, 3)[4]).toBe(0);
  });

  it('keeps no-data pixels and never counts them', () => {
    const map = Uint8Array.from([N, N, N, N, 1, 0, N, 0, 0]);
    const out = majorityFilter(map, 3, 3, 3);
    expect(Array.from(out)).toEqual([N, N, N, N, 0, 0, N, 0, 0]);
  });

  it('agrees with the rule written out plainly (3 × 3 and 5 × 5, with no-data)', () => {
    const r = rng(5), w = 23, h = 17;
    const map = Uint8Array.from({ length: w * h }, () => (r() < 0.1 ? N : Math.floor(r() * 4)));
    for (const size of [3, 5] as const) expect(Array.from(majorityFilter(map, w, h, size))).toEqual(Array.from(naive(map, w, h, size)));
  });

  it('refuses other sizes and a wrong pixel count in one line', () => {
    expect(() => majorityFilter(new Uint8Array(9), 3, 3, 4 as never)).toThrow(/size must be 3 or 5/);
    expect(() => majorityFilter(new Uint8Array(8), 3, 3, 3)).toThrow(/8 labels do not make a 3 × 3 map/);
  });
});
