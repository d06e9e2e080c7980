import { describe, expect, it } from 'vitest';
import { bald, baldScores } from '../../src/active/bald.js';
import { batchBald } from '../../src/active/batch-bald.js';
import { exactJointEntropy } from '../../src/active/joint-entropy.js';
import { checkPoolProbs } from '../../src/active/pool-probs.js';
import { expectedEntropies } from '../../src/active/entropy.js';
import { itemOf, randomTable, table } from './tables.js';

/** The repeated-MNIST situation: every item of `base` three times over (item i at i, i + N, i + 2N). */
function repeated(baseSeed: number, K: number, N: number, C: number, sharpness: number) {
  const base = randomTable(K, N, C, baseSeed, sharpness);
  return { pool: table([0, 1, 2].flatMap(() => Array.from({ length: N }, (_, i) => itemOf(base, i)))), N };
}

describe('greedy BatchBALD', () => {
  it('with a batch of one it picks BALD\'s top item', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const pool = randomTable(12, 40, 4, seed);
      const scores = baldScores(checkPoolProbs('test', pool));
      const one = batchBald(pool, 1);
      expect(one.indices).toEqual(bald(pool, 1).indices);
      expect(one.scores![0]).toBeCloseTo(scores[one.indices[0]!]!, 10);
    }
  });

  it('its scores are the joint mutual information of the batch so far', () => {
    const pool = randomTable(6, 15, 3, 4);
    const r = batchBald(pool, 4);
    const noise = expectedEntropies(checkPoolProbs('test', pool));
    r.indices.forEach((_, n) => {
      const batch = r.indices.slice(0, n + 1);
      expect(r.scores![n]).toBeCloseTo(exactJointEntropy(pool, batch) - batch.reduce((s, i) => s + noise[i]!, 0), 10);
    });
    // Adding an item never lowers the joint information.
    for (let n = 1; n < 4; n++) expect(r.scores![n]!).toBeGreaterThanOrEqual(r.scores![n - 1]! - 1e-12);
  });

  it('does not pick a copy of a point it already has; top-b BALD does', () => {
    // Four passes. A (three copies): passes {0, 1} against {2, 3}; B (two copies): passes {0, 2}
    // against {1, 3}, a little less sure, so its BALD score is lower; C: passes agree.
    const A = [[0.95, 0.05], [0.95, 0.05], [0.05, 0.95], [0.05, 0.95]];
    const B = [[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.1, 0.9]];
    const C = [[0.7, 0.3], [0.7, 0.3], [0.7, 0.3], [0.7, 0.3]];
    const pool = table([A, C, A, B, A, B, C]);
    expect(bald(pool, 2).indices).toEqual([0, 2]);
    expect(bald(pool, 3).indices).toEqual([0, 2, 4]);
    expect(batchBald(pool, 2).indices).toEqual([0, 3]);
  });

  it('on a pool of triplicated random points the batch has no two copies, exact or sampled', () => {
    const { pool, N } = repeated(11, 20, 30, 4, 4);
    const copies = (idx: number[]) => idx.length - new Set(idx.map((i) => i % N)).size;
    expect(copies(bald(pool, 6).indices)).toBeGreaterThan(0);
    const exact = batchBald(pool, 6);
    expect(copies(exact.indices)).toBe(0);
    // Forced to sample from the third item on (4² configurations at most), with few samples.
    const sampled = batchBald(pool, 6, { maxConfigurations: 16, samples: 300, seed: 3 });
    expect(copies(sampled.indices)).toBe(0);
    expect(sampled.indices.slice(0, 2)).toEqual(exact.indices.slice(0, 2));
    expect(batchBald(pool, 6, { maxConfigurations: 16, samples: 300, seed: 3 })).toEqual(sampled);
  });

  it('sampled scores track the exact ones', () => {
    const pool = randomTable(8, 20, 3, 7);
    const exact = batchBald(pool, 5);
    const sampled = batchBald(pool, 5, { maxConfigurations: 3, samples: 20_000, seed: 1 });
    sampled.scores!.forEach((s, n) => expect(Math.abs(s - exact.scores![n]!)).toBeLessThan(0.03));
  });

  it('refuses bad options in one line', () => {
    const pool = randomTable(2, 4, 2, 1);
    expect(() => batchBald(pool, 5)).toThrow(/batchBald: batch = 5 is more than the 4 items of the pool/);
    expect(() => batchBald(pool, 2, { samples: 0 })).toThrow(/samples = 0 must be a positive integer/);
    expect(() => batchBald(pool, 2, { maxConfigurations: 1.5 })).toThrow(/maxConfigurations = 1\.5/);
    expect(() => batchBald(pool, 2, { seed: -2 })).toThrow(/seed = -2/);
  });
});
