import { checkSeed, Rng } from '../data/rng.js';
import type { Acquired } from './acquired.js';
import { checkBatch, checkPoolProbs, type PoolProbs } from './pool-probs.js';

/** b of the positions 0…N−1 uniformly at random, without replacement; the same seed gives the same pick. Needs no model. */
export function randomPick(N: number, b: number, seed: number): Acquired {
  checkBatch('random', b, N);
  return { indices: new Rng(checkSeed('random', seed)).shuffle([...Array(N).keys()]).slice(0, b) };
}

/** The baseline as an acquisition function over MC probabilities (which it ignores but for their count). */
export function randomAcquisition(pool: PoolProbs, b: number, seed: number): Acquired {
  return randomPick(checkPoolProbs('random', pool).N, b, seed);
}
