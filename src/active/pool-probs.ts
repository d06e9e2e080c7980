import { describeValue, fail } from '../engine/errors.js';

/**
 * Monte-Carlo class probabilities of a pool: K passes (weight samples) × N items × C classes,
 * row-major as p[k][i][c] (SeedClassifier.mcPredict's `probs` has this layout). Every acquisition
 * function reads this and nothing else, so it works with any model that can give MC passes.
 */
export interface PoolProbs {
  passes: number;
  classes: number;
  probs: ArrayLike<number>;
}

/** A checked copy in float64 with its item count: what the acquisition functions compute on. */
export interface CheckedProbs {
  K: number;
  N: number;
  C: number;
  /** p[k][i][c] at (k * N + i) * C + c. */
  p: Float64Array;
}

/** Rows may be a softmax computed in float32: they must sum to 1 within this. */
const SUM_TOLERANCE = 1e-3;

/** Refuses a malformed table in one line (op: the caller's name), instead of scoring garbage. */
export function checkPoolProbs(op: string, pool: PoolProbs): CheckedProbs {
  if (pool === null || typeof pool !== 'object') fail(op, `probabilities must be { passes, classes, probs }, got ${describeValue(pool)}`);
  const { passes: K, classes: C, probs } = pool;
  if (!Number.isSafeInteger(K) || K < 1) fail(op, `passes = ${describeValue(K)} must be a positive integer`);
  if (!Number.isSafeInteger(C) || C < 2) fail(op, `classes = ${describeValue(C)} must be an integer of at least 2`);
  if (probs === null || typeof probs !== 'object' || typeof probs.length !== 'number') fail(op, `probs must be an array of numbers, got ${describeValue(probs)}`);
  if (probs.length % (K * C) !== 0) fail(op, `probs has ${probs.length} values, not a multiple of passes × classes = ${K * C}`);
  const N = probs.length / (K * C);
  const p = Float64Array.from(probs);
  for (let r = 0; r < K * N; r++) {
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const v = p[r * C + c]!;
      if (!(v >= 0 && v <= 1)) fail(op, `probability ${describeValue(v)} of pass ${Math.floor(r / N)}, item ${r % N}, class ${c} is not in [0, 1]`);
      sum += v;
    }
    if (Math.abs(sum - 1) > SUM_TOLERANCE) fail(op, `the probabilities of pass ${Math.floor(r / N)}, item ${r % N} sum to ${sum.toPrecision(6)}, not 1`);
  }
  return { K, N, C, p };
}

/** A batch size the pool can give: 1 ≤ b ≤ N. */
export function checkBatch(op: string, b: unknown, N: number): number {
  if (typeof b !== 'number' || !Number.isSafeInteger(b) || b < 1) fail(op, `batch = ${describeValue(b)} must be a positive integer`);
  if (b > N) fail(op, `batch = ${b} is more than the ${N} items of the pool`);
  return b;
}
