import { describe, expect, it } from 'vitest';
import { clusterIndices, dispersionIndices, elbowK, sampleIndices, silhouette } from '../../src/geo/cluster-indices.js';
import { rng } from '../helpers/random.js';

// Straightforward O(n²) definitions, written independently of the library's single-pass forms.
const dist = (x: number[][], i: number, j: number) => Math.hypot(...x[i]!.map((v, t) => v - x[j]![t]!));
const mean = (rows: number[][]) => rows[0]!.map((_, t) => rows.reduce((s, r) => s + r[t]!, 0) / rows.length);

function naiveSilhouette(x: number[][], labels: number[]): number {
  const s = x.map((_, i) => {
    const groups = new Map<number, number[]>();
    x.forEach((_, j) => { if (j !== i) groups.set(labels[j]!, [...(groups.get(labels[j]!) ?? []), dist(x, i, j)]); });
    const own = groups.get(labels[i]!);
    if (!own) return 0;
    const a = own.reduce((p, q) => p + q, 0) / own.length;
    const b = Math.min(...[...groups].filter(([l]) => l !== labels[i]).map(([, ds]) => ds.reduce((p, q) => p + q, 0) / ds.length));
    return (b - a) / Math.max(a, b);
  });
  return s.reduce((p, q) => p + q, 0) / s.length;
}

function naiveCHDB(x: number[][], labels: number[]): { ch: number; db: number; wcss: number } {
  const ids = [...new Set(labels)].sort();
  const members = ids.map((l) => x.filter((_, i) => labels[i] === l));
  const cents = members.map(mean), all = mean(x);
  const sq = (a: number[], b: number[]) => a.reduce((s, v, t) => s + (v - b[t]!) ** 2, 0);
  const W = members.reduce((s, m, c) => s + m.reduce((q, r) => q + sq(r, cents[c]!), 0), 0);
  const B = members.reduce((s, m, c) => s + m.length * sq(cents[c]!, all), 0);
  const k = ids.length, n = x.length;
  const sc = members.map((m, c) => m.reduce((q, r) => q + Math.sqrt(sq(r, cents[c]!)), 0) / m.length);
  const db = ids.reduce((s, _, i) => s + Math.max(...ids.map((__, j) => (j === i ? 0 : (sc[i]! + sc[j]!) / Math.sqrt(sq(cents[i]!, cents[j]!))))), 0) / k;
  return { ch: (B / (k - 1)) / (W / (n - k)), db, wcss: W };
}

describe('cluster indices', () => {
  it('match a hand-computed example', () => {
    // Clusters {0, 2} and {10, 12} on a line: centroids 1 and 11, mean 6.
    const x = [0, 2, 10, 12], labels = [0, 0, 1, 1];
    const d = dispersionIndices(x, 4, 1, labels, 2);
    expect(d.wcss).toBe(4); // four points each 1 from their centroid
    expect(d.calinskiHarabasz).toBeCloseTo((100 / 1) / (4 / 2), 12); // B = 2·25 + 2·25
    expect(d.daviesBouldin).toBeCloseTo((1 + 1) / 10, 12);
    // Silhouettes 9/11 (outer points: a = 2, b = 11) and 7/9 (inner points: a = 2, b = 9).
    expect(silhouette(x, 4, 1, labels, 2)).toBeCloseTo((9 / 11 + 7 / 9) / 2, 12);
  });

  it('agree with straightforward O(n²) definitions on random data', () => {
    const r = rng(3), n = 90, d = 3, k = 4;
    const x = Array.from({ length: n }, () => Array.from({ length: d }, () => r() * 4));
    const labels = x.map((row, i) => (i < k ? i : Math.min(k - 1, Math.floor(row[0]! + 0.3 * r()))));
    const flat = x.flat();
    const ours = dispersionIndices(flat, n, d, labels, k), ref = naiveCHDB(x, labels);
    expect(ours.wcss).toBeCloseTo(ref.wcss, 9);
    expect(ours.calinskiHarabasz).toBeCloseTo(ref.ch, 9);
    expect(ours.daviesBouldin).toBeCloseTo(ref.db, 9);
    expect(silhouette(flat, n, d, labels, k)).toBeCloseTo(naiveSilhouette(x, labels), 12);
    // The full table with a sample of every row is the same silhouette.
    expect(clusterIndices(flat, n, d, labels, k, { sample: n }).silhouette).toBeCloseTo(naiveSilhouette(x, labels), 12);
    // A sample of fewer rows is the silhouette of exactly those rows.
    const pick = Array.from(sampleIndices(n, 30, 7));
    expect(clusterIndices(flat, n, d, labels, k, { sample: 30, seed: 7 }).silhouette)
      .toBeCloseTo(naiveSilhouette(pick.map((i) => x[i]!), pick.map((i) => labels[i]!)), 12);
  });

  it('score a row alone in its cluster 0, and a single cluster NaN', () => {
    expect(silhouette([0, 1, 5], 3, 1, [0, 0, 1], 2)).toBeCloseTo(((5 - 1) / 5 + (4 - 1) / 4 + 0) / 3, 12);
    expect(silhouette([0, 1, 5], 3, 1, [0, 0, 0], 2)).toBeNaN();
  });

  it('draw distinct, seeded sample rows', () => {
    const a = sampleIndices(1000, 50, 1), b = sampleIndices(1000, 50, 1), c = sampleIndices(1000, 50, 2);
    expect(new Set(a).size).toBe(50);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Math.max(...a)).toBeLessThan(1000);
    expect(Array.from(sampleIndices(5, 9, 0))).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuse labels outside 0…k−1 in one line', () => {
    expect(() => dispersionIndices([0, 1], 2, 1, [0, 2], 2)).toThrow(/label 2 of row 1 is outside 0…1/);
  });
});

describe('elbowK', () => {
  it('finds the bend of a WCSS curve', () => {
    expect(elbowK([2, 3, 4, 5, 6, 7, 8], [100, 60, 20, 17, 15, 13, 12])).toBe(4);
    expect(elbowK([2, 3, 4, 5, 6, 7, 8], [100, 40, 35, 30, 26, 22, 20])).toBe(3);
  });
  it('returns the smallest k when there is no bend', () => {
    expect(elbowK([2, 3, 4, 5], [40, 30, 20, 10])).toBe(2);
    expect(elbowK([2, 3, 4], [5, 5, 5])).toBe(2);
  });
});
