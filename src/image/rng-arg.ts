import { checkSeed, Rng } from '../data/rng.js';
import { describeValue, fail } from '../engine/errors.js';

/**
 * The randomness argument of the degradations: an Rng (its state advances, so a sequence of calls
 * draws fresh numbers) or a seed 0…2³² − 1 (a fresh generator: the same seed, the same result).
 */
export type RngOrSeed = Rng | number;

export function toRng(op: string, rng: unknown): Rng {
  if (rng instanceof Rng) return rng;
  if (typeof rng === 'number') return new Rng(checkSeed(op, rng));
  fail(op, `rng = ${describeValue(rng)} must be an Rng or a seed (an integer from 0 to 4294967295)`);
}
