/** What an acquisition function picked: pool positions in the order acquired, and each one's score when picked (none for random). */
export interface Acquired {
  indices: number[];
  /** maxEntropy: H[mean]; bald: the mutual information; batchBald: the batch's joint mutual information after adding that item. */
  scores?: number[];
}

/** The b highest scores, highest first; equal scores go to the lower index, so the pick is reproducible. */
export function topScores(scores: Float64Array, b: number): Acquired {
  const order = Array.from(scores.keys()).sort((a, c) => scores[c]! - scores[a]! || a - c);
  const indices = order.slice(0, b);
  return { indices, scores: indices.map((i) => scores[i]!) };
}
