import { describeValue, fail } from '../engine/errors.js';
import type { Acquired } from './acquired.js';
import { bald } from './bald.js';
import { batchBald, type BatchBaldOptions } from './batch-bald.js';
import { maxEntropy } from './max-entropy.js';
import type { PoolProbs } from './pool-probs.js';
import { randomAcquisition } from './random.js';

/** The acquisition functions by their CLI names. */
export const ACQUISITIONS = ['batchbald', 'bald', 'max-entropy', 'random'] as const;
export type AcquisitionName = (typeof ACQUISITIONS)[number];

export function isAcquisition(name: unknown): name is AcquisitionName {
  return typeof name === 'string' && (ACQUISITIONS as readonly string[]).includes(name);
}

/** b pool items by the named function; `seed` drives random and BatchBALD's sampling. */
export function acquire(name: AcquisitionName, pool: PoolProbs, b: number, opts: BatchBaldOptions & { seed?: number } = {}): Acquired {
  switch (name) {
    case 'batchbald': return batchBald(pool, b, opts);
    case 'bald': return bald(pool, b);
    case 'max-entropy': return maxEntropy(pool, b);
    case 'random': return randomAcquisition(pool, b, opts.seed ?? 0);
    default: return fail('acquire', `unknown acquisition ${describeValue(name)}; expected ${ACQUISITIONS.join(', ')}`);
  }
}
