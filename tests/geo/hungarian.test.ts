import { describe, expect, it } from 'vitest';
import { hungarian, matchClusters } from '../../src/geo/hungarian.js';
import { rng } from '../helpers/random.js';

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** Best total by trying every injective assignment of the smaller side. */
function bruteForce(cost: number[], rows: number, cols: number): number {
  const n = Math.max(rows, cols);
  let best = Infinity;
  for (const p of permutations(n)) {
    let s = 0;
    for (let i = 0; i < rows; i++) if (p[i]! < cols) s += cost[i * cols + p[i]!]!;
    if (rows <= cols || p.slice(0, rows).filter((j) => j < cols).length === cols) best = Math.min(best, s);
  }
  return best;
}

describe('hungarian', () => {
  for (const [rows, cols] of [[5, 5], [3, 6], [6, 4], [1, 3], [7, 7]] as const) {
    it(`finds the optimal assignment of a ${rows} × ${cols} matrix (checked by brute force)`, () => {
      const r = rng(rows * 10 + cols);
      for (let trial = 0; trial < 5; trial++) {
        const cost = Array.from({ length: rows * cols }, () => Math.round(r() * 20 - 5));
        const a = hungarian(cost, rows, cols);
        const used = new Set<number>();
        let total = 0;
        a.forEach((j, i) => { if (j >= 0) { expect(used.has(j)).toBe(false); used.add(j); total += cost[i * cols + j]!; } });
        expect(used.size).toBe(Math.min(rows, cols));
        expect(total).toBe(bruteForce(cost, rows, cols));
      }
    });
  }

  it('refuses a malformed cost matrix in one line', () => {
    expect(() => hungarian([1, 2, 3], 2, 2)).toThrow(/^hungarian: cost holds 3 values, not a 2 × 2 matrix$/);
    expect(() => hungarian([1, NaN, 3, 4], 2, 2)).toThrow(/^hungarian: cost entry 1 is NaN, not a finite number$/);
  });
});

describe('matchClusters', () => {
  it('is exact on a permuted label map', () => {
    const r = rng(4), k = 6, n = 3000;
    const reference = Uint8Array.from({ length: n }, () => Math.floor(r() * k));
    const perm = [3, 0, 5, 1, 4, 2];
    const clusters = reference.map((c) => perm[c]!);
    const m = matchClusters(clusters, reference, k, k);
    expect(m.accuracy).toBe(1);
    for (let c = 0; c < k; c++) expect(perm[m.mapping[c]!]).toBe(c);
    expect(Array.from(m.recall)).toEqual(new Array(k).fill(1));
    expect(m.pixels).toBe(n);
  });

  it('scores a noisy map: accuracy, recall and confusion agree with direct counts, no-data skipped', () => {
    const r = rng(8), k = 4, n = 2000, ND = 255;
    const reference = Uint8Array.from({ length: n }, () => Math.floor(r() * 3));
    // 3 classes, 4 clusters: cluster 3 is spurious; 20 % of pixels get a random cluster.
    const clusters = reference.map((c) => (r() < 0.2 ? Math.floor(r() * k) : (c + 1) % 3));
    clusters[0] = ND; reference[1] = ND;
    const m = matchClusters(clusters, reference, k, 3, ND);
    expect(Array.from(m.mapping.subarray(0, 3))).toEqual([2, 0, 1]);
    expect(m.mapping[3]).toBe(-1);
    let valid = 0, hits = 0;
    const perClass = [0, 0, 0], perHit = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      if (clusters[i] === ND || reference[i] === ND) continue;
      valid++; perClass[reference[i]!]!++;
      if (m.mapping[clusters[i]!] === reference[i]) { hits++; perHit[reference[i]!]!++; }
    }
    expect(m.pixels).toBe(valid);
    expect(m.accuracy).toBe(hits / valid);
    expect(m.accuracy).toBeGreaterThan(0.8);
    for (let c = 0; c < 3; c++) expect(m.recall[c]).toBe(perHit[c]! / perClass[c]!);
    expect(m.confusion.reduce((a, b) => a + b, 0)).toBe(valid);
  });

  it('refuses maps of different sizes and out-of-range ids in one line', () => {
    expect(() => matchClusters([0, 1], [0], 2, 2)).toThrow(/^match: the cluster map has 2 pixels, the reference 1$/);
    expect(() => matchClusters([0, 2], [0, 1], 2, 2)).toThrow(/^match: cluster id 2 at pixel 1 is outside 0…1$/);
  });
});
