import { checkSeed, Rng } from '../data/rng.js';
import { describeValue, fail } from '../engine/errors.js';
import type { Acquired } from './acquired.js';
import { expectedEntropies } from './entropy.js';
import { ExactJoint, SampledJoint } from './joint-entropy.js';
import { checkBatch, checkPoolProbs, type PoolProbs } from './pool-probs.js';

export interface BatchBaldOptions {
  /** Seed of the sampled joint entropies (default 0): the same seed gives the same batch. */
  seed?: number;
  /** M, label configurations sampled once the exact sum is too large (default 10 000, the paper's). */
  samples?: number;
  /** Largest number of label configurations C^n summed exactly (default 2^14); past it, sampling. */
  maxConfigurations?: number;
}

export const BATCHBALD_DEFAULTS = { seed: 0, samples: 10_000, maxConfigurations: 2 ** 14 } as const;

/**
 * Greedy BatchBALD (Kirsch, van Amersfoort and Gal 2019): builds the batch one item at a time,
 * each time adding the candidate j that maximises the joint mutual information
 *   I(y_1…y_n, y_j; w) = H(y_1…y_n, y_j) − Σ_i E_w H(y_i | w) − E_w H(y_j | w).
 * The sum of expected entropies is additive; the joint entropy is not, which is what stops the
 * batch from asking the same question twice: a copy of a chosen item adds no joint entropy. The
 * joint entropy is exact while C^(n+1) ≤ maxConfigurations, then estimated from `samples`
 * sampled configurations (joint-entropy.ts). The objective is submodular, so the greedy batch is
 * within 1 − 1/e of the best one. With b = 1 it is BALD's top item.
 */
export function batchBald(pool: PoolProbs, b: number, opts: BatchBaldOptions = {}): Acquired {
  const t = checkPoolProbs('batchBald', pool);
  checkBatch('batchBald', b, t.N);
  const seed = checkSeed('batchBald', opts.seed ?? BATCHBALD_DEFAULTS.seed);
  const samples = opts.samples ?? BATCHBALD_DEFAULTS.samples;
  if (!Number.isSafeInteger(samples) || samples < 1) fail('batchBald', `samples = ${describeValue(samples)} must be a positive integer`);
  const maxConfigurations = opts.maxConfigurations ?? BATCHBALD_DEFAULTS.maxConfigurations;
  if (!Number.isSafeInteger(maxConfigurations) || maxConfigurations < 1) fail('batchBald', `maxConfigurations = ${describeValue(maxConfigurations)} must be a positive integer`);

  const noise = expectedEntropies(t);
  const chosen: number[] = [], scores: number[] = [], taken = new Uint8Array(t.N);
  let exact: ExactJoint | null = new ExactJoint(t), sampled: SampledJoint | null = null;
  let batchEntropy = 0, noiseSum = 0;
  for (let step = 0; step < b; step++) {
    if (exact && exact.configurations * t.C > maxConfigurations) {
      // The batch so far is re-drawn from the mixture; its entropy, known exactly, carries over.
      sampled = new SampledJoint(t, samples, new Rng(seed), chosen);
      exact = null;
    }
    let best = -1, bestJoint = -Infinity, bestScore = -Infinity;
    for (let j = 0; j < t.N; j++) {
      if (taken[j]) continue;
      const joint = exact ? exact.entropyWith(j) : batchEntropy + sampled!.conditionalEntropy(j);
      const score = joint - noiseSum - noise[j]!;
      if (score > bestScore) { best = j; bestScore = score; bestJoint = joint; }
    }
    chosen.push(best);
    scores.push(bestScore);
    taken[best] = 1;
    batchEntropy = bestJoint;
    noiseSum += noise[best]!;
    if (exact) exact.add(best);
    else sampled!.add(best);
  }
  return { indices: chosen, scores };
}
