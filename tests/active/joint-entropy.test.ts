import { describe, expect, it } from 'vitest';
import { exactJointEntropy, sampledJointEntropy } from '../../src/active/joint-entropy.js';
import type { PoolProbs } from '../../src/active/pool-probs.js';
import { itemOf, randomTable } from './tables.js';

/** H(y_1…y_n) by enumerating every configuration with its own recursion: p(y) = (1/K) Σ_k Π_i p_k(y_i). */
function bruteForce(pool: PoolProbs, indices: number[]): number {
  const items = indices.map((i) => itemOf(pool, i)), K = pool.passes, C = pool.classes;
  let h = 0;
  const visit = (depth: number, products: number[]): void => {
    if (depth === items.length) {
      const p = products.reduce((a, b) => a + b, 0) / K;
      if (p > 0) h -= p * Math.log(p);
      return;
    }
    for (let c = 0; c < C; c++) visit(depth + 1, products.map((v, k) => v * items[depth]![k]![c]!));
  };
  visit(0, new Array<number>(K).fill(1));
  return h;
}

describe('joint entropy of a batch under the MC mixture', () => {
  it('the exact sum equals brute-force enumeration', () => {
    for (const [K, C, seed] of [[3, 2, 1], [5, 3, 2], [8, 4, 3]] as const) {
      const pool = randomTable(K, 9, C, seed);
      for (const idx of [[4], [0, 1], [2, 7, 5], [8, 0, 3, 6], [1, 2, 3, 4, 5]]) expect(exactJointEntropy(pool, idx)).toBeCloseTo(bruteForce(pool, idx), 11);
    }
  });

  it('one item: H[mean]; two copies of a one-hot item: no more entropy than one', () => {
    const pool = randomTable(4, 3, 3, 9);
    const p = itemOf(pool, 1), mean = [0, 1, 2].map((c) => p.reduce((s, row) => s + row[c]!, 0) / 4);
    expect(exactJointEntropy(pool, [1])).toBeCloseTo(-mean.reduce((s, v) => s + v * Math.log(v), 0), 12);
    // Passes sure of different classes: a second copy's label is decided by the first.
    const sure: PoolProbs = { passes: 2, classes: 2, probs: [1, 0, 1, 0, 0, 1, 0, 1] };
    expect(exactJointEntropy(sure, [0, 1])).toBeCloseTo(Math.LN2, 12);
  });

  it('the sampled estimate converges to the exact value as samples grow', () => {
    const pool = randomTable(10, 8, 3, 5);
    const idx = [0, 3, 5, 6, 7];
    const exact = exactJointEntropy(pool, idx);
    const meanError = (m: number) => {
      let e = 0;
      for (let s = 0; s < 6; s++) e += Math.abs(sampledJointEntropy(pool, idx, m, s) - exact);
      return e / 6;
    };
    const small = meanError(20), large = meanError(20_000);
    expect(large).toBeLessThan(0.01);
    expect(large).toBeLessThan(small / 5);
    // One item has nothing to sample: the estimate is exact.
    expect(sampledJointEntropy(pool, [2], 3, 0)).toBeCloseTo(exactJointEntropy(pool, [2]), 12);
    expect(sampledJointEntropy(pool, idx, 500, 4)).toBe(sampledJointEntropy(pool, idx, 500, 4));
  });

  it('refuses bad indices', () => {
    const pool = randomTable(2, 3, 2, 1);
    expect(() => exactJointEntropy(pool, [])).toThrow(/indices must be a non-empty list/);
    expect(() => exactJointEntropy(pool, [3])).toThrow(/index 3 is not a position in the pool of 3/);
    expect(() => sampledJointEntropy(pool, [0, 1], 0, 1)).toThrow(/samples = 0 must be a positive integer/);
  });
});
