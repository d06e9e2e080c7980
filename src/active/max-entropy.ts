import { topScores, type Acquired } from './acquired.js';
import { meanEntropies } from './entropy.js';
import { checkBatch, checkPoolProbs, type PoolProbs } from './pool-probs.js';

/**
 * The b items whose mean prediction is most uncertain, H[(1/K) Σ_k p_k]. It cannot tell the
 * model's ignorance (passes disagree) from noise in the data (every pass unsure alike).
 */
export function maxEntropy(pool: PoolProbs, b: number): Acquired {
  const t = checkPoolProbs('maxEntropy', pool);
  return topScores(meanEntropies(t), checkBatch('maxEntropy', b, t.N));
}
