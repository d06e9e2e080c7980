/** Held-out quality of a classifier, from its confusion matrix. */
export interface HeldOutScores {
  accuracy: number;
  /** Mean over classes of F1 = 2·precision·recall / (precision + recall); a class never predicted nor present counts 0. */
  macroF1: number;
  recall: number[];
  /** confusion[true][predicted]. */
  confusion: number[][];
}

export function scoresFromConfusion(confusion: number[][]): HeldOutScores {
  const C = confusion.length;
  const rowSum = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const colSum = Array.from({ length: C }, (_, k) => confusion.reduce((a, row) => a + row[k]!, 0));
  const total = rowSum.reduce((a, b) => a + b, 0);
  const recall = confusion.map((row, k) => (rowSum[k]! ? row[k]! / rowSum[k]! : 0));
  const precision = confusion.map((_, k) => (colSum[k]! ? confusion[k]![k]! / colSum[k]! : 0));
  const f1 = recall.map((r, k) => (r + precision[k]! > 0 ? (2 * r * precision[k]!) / (r + precision[k]!) : 0));
  return {
    accuracy: total ? confusion.reduce((a, row, k) => a + row[k]!, 0) / total : 0,
    macroF1: f1.reduce((a, b) => a + b, 0) / C,
    recall,
    confusion,
  };
}
