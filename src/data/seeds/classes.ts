import { describeValue, InflowError } from '../../engine/errors.js';

/** The four purity grades of the seed-purity application, in label order. */
export const SEED_CLASSES = ['pure', 'discoloured', 'broken', 'silkcut'] as const;
export type SeedClass = (typeof SEED_CLASSES)[number];

/** The two photographs of each seed: the top shows the germ, the bottom does not. */
export const SEED_VIEWS = ['top', 'bottom'] as const;
export type SeedView = (typeof SEED_VIEWS)[number];

/** Image sizes the generator renders (square, RGB). */
export const SEED_SIZES = [32, 64] as const;

/**
 * Integer counts per class summing to `total` in proportion to `ratio` (largest remainder, ties
 * to the earlier class), so 9 : 7 : 6 : 1 over 230 images is exactly 90, 70, 60, 10.
 */
export function countsFromRatio(ratio: readonly number[], total: number): number[] {
  if (!Array.isArray(ratio) || ratio.length !== SEED_CLASSES.length || ratio.some((r) => typeof r !== 'number' || !Number.isFinite(r) || r < 0))
    throw new InflowError(`class ratio ${describeValue(ratio)} must be ${SEED_CLASSES.length} non-negative numbers (${SEED_CLASSES.join(' : ')})`);
  const sum = ratio.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new InflowError('class ratio must have at least one positive entry');
  if (!Number.isSafeInteger(total) || total < 0) throw new InflowError(`image count ${describeValue(total)} must be a non-negative integer`);
  const exact = ratio.map((r) => (r / sum) * total);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, frac: e - Math.floor(e) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) if (left-- > 0) counts[i]!++;
  return counts;
}

/** Per-class counts checked: one non-negative integer per class. */
export function checkCounts(what: string, counts: unknown): number[] {
  if (!Array.isArray(counts) || counts.length !== SEED_CLASSES.length || counts.some((c) => !Number.isSafeInteger(c) || c < 0))
    throw new InflowError(`${what} ${describeValue(counts)} must be ${SEED_CLASSES.length} non-negative integers, one per class (${SEED_CLASSES.join(', ')})`);
  return counts as number[];
}
