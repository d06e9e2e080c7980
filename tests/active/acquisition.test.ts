import { describe, expect, it } from 'vitest';
import { acquire, ACQUISITIONS } from '../../src/active/acquire.js';
import { bald, baldScores } from '../../src/active/bald.js';
import { expectedEntropies, meanEntropies } from '../../src/active/entropy.js';
import { maxEntropy } from '../../src/active/max-entropy.js';
import { checkPoolProbs } from '../../src/active/pool-probs.js';
import { randomAcquisition } from '../../src/active/random.js';
import { table } from './tables.js';

// Two passes, two classes. Item 0: the passes are sure and disagree; item 1: both unsure alike;
// item 2: both agree at 0.9; item 3: 0.8 vs 0.4 for class 0.
const pool = table([
  [[1, 0], [0, 1]],
  [[0.5, 0.5], [0.5, 0.5]],
  [[0.9, 0.1], [0.9, 0.1]],
  [[0.8, 0.2], [0.4, 0.6]],
]);
const LN2 = 0.6931471805599453;

describe('entropy, max-entropy and BALD on a hand-computed table', () => {
  it('H[mean] and mean H per item', () => {
    const t = checkPoolProbs('test', pool);
    // H(0.9, 0.1) = 0.3250830; H(0.6, 0.4) = 0.6730117; (H(0.8, 0.2) + H(0.4, 0.6)) / 2 = 0.5867070.
    expect([...meanEntropies(t)].map((v) => v.toFixed(7))).toEqual([LN2, LN2, 0.325083, 0.6730117].map((v) => v.toFixed(7)));
    expect([...expectedEntropies(t)].map((v) => v.toFixed(7))).toEqual([0, LN2, 0.325083, 0.586707].map((v) => v.toFixed(7)));
    expect([...baldScores(t)].map((v) => v.toFixed(7))).toEqual([LN2, 0, 0, 0.0863046].map((v) => v.toFixed(7)));
  });

  it('max-entropy takes the two ln 2 items (tie to the lower index); BALD skips the one whose passes agree', () => {
    expect(maxEntropy(pool, 2).indices).toEqual([0, 1]);
    expect(maxEntropy(pool, 3).indices).toEqual([0, 1, 3]);
    const b = bald(pool, 2);
    expect(b.indices).toEqual([0, 3]);
    expect(b.scores![0]).toBeCloseTo(LN2, 12);
    expect(b.scores![1]).toBeCloseTo(0.0863046, 6);
  });

  it('random is a seeded draw without replacement', () => {
    const a = randomAcquisition(pool, 4, 7).indices;
    expect([...a].sort()).toEqual([0, 1, 2, 3]);
    expect(randomAcquisition(pool, 4, 7).indices).toEqual(a);
    const picks = new Set(Array.from({ length: 20 }, (_, s) => randomAcquisition(pool, 2, s).indices.join(',')));
    expect(picks.size).toBeGreaterThan(3);
  });

  it('acquire dispatches by name', () => {
    expect(ACQUISITIONS).toEqual(['batchbald', 'bald', 'max-entropy', 'random']);
    expect(acquire('bald', pool, 2).indices).toEqual([0, 3]);
    expect(acquire('max-entropy', pool, 1).indices).toEqual([0]);
    expect(acquire('batchbald', pool, 1).indices).toEqual([0]);
    expect(acquire('random', pool, 2, { seed: 7 }).indices).toEqual(randomAcquisition(pool, 2, 7).indices);
    expect(() => acquire('entropy' as never, pool, 1)).toThrow(/unknown acquisition "entropy"; expected batchbald, bald, max-entropy, random/);
  });

  it('refuses malformed tables and batches in one line', () => {
    expect(() => bald({ passes: 2, classes: 2, probs: [0.5, 0.5, 0.5] }, 1)).toThrow(/probs has 3 values, not a multiple of passes × classes = 4/);
    expect(() => bald({ passes: 1, classes: 2, probs: [0.7, 0.7] }, 1)).toThrow(/pass 0, item 0 sum to 1\.40000, not 1/);
    expect(() => bald({ passes: 1, classes: 2, probs: [NaN, 1] }, 1)).toThrow(/probability NaN .* is not in \[0, 1\]/);
    expect(() => bald(pool, 5)).toThrow(/batch = 5 is more than the 4 items of the pool/);
    expect(() => maxEntropy(pool, 0)).toThrow(/batch = 0 must be a positive integer/);
    expect(() => randomAcquisition(pool, 1, -1)).toThrow(/seed = -1 must be an integer/);
  });
});
