import { topScores, type Acquired } from './acquired.js';
import { expectedEntropies, meanEntropies } from './entropy.js';
import { checkBatch, checkPoolProbs, type CheckedProbs, type PoolProbs } from './pool-probs.js';

/** Per item: I(y; w) = H[mean] − mean H, the information a label gives about the weights (never below 0 up to rounding). */
export function baldScores(t: CheckedProbs): Float64Array {
  const total = meanEntropies(t), noise = expectedEntropies(t);
  return total.map((h, i) => h - noise[i]!);
}

/**
 * BALD (Houlsby et al. 2011): the b items with the highest mutual information, each scored alone.
 * Near-duplicates score alike, so a top-b batch can spend its labels on the same question.
 */
export function bald(pool: PoolProbs, b: number): Acquired {
  const t = checkPoolProbs('bald', pool);
  return topScores(baldScores(t), checkBatch('bald', b, t.N));
}
