import { describeValue, InflowError } from '../engine/errors.js';
import type { ImageDataset } from './dataset.js';
import { subset } from './dataset.js';
import { mnistSplit } from './mnist.js';

export interface ImbalancedMnistOptions {
  /** The digits that become classes 0, 1, …, in order (default 0, 1, 2, 3). Distinct, 0…9. */
  digits?: readonly number[];
  /** Training images per class, e.g. 900, 700, 600, 100 for 9 : 7 : 6 : 1. */
  counts: readonly number[];
  /** Held-out images per class (balanced, so minority recall is measured on as many images as the rest); default: every test image of those digits. */
  testPerClass?: number;
}

/**
 * A second, real-image check of class balancing: a few MNIST digits as classes at a chosen
 * imbalance. Training images are the first `counts[k]` of digit k in the fixed training split's
 * order (mnistSplit), held-out ones from the fixed test split: the two never share a digit image.
 */
export function imbalancedMnist(opts: ImbalancedMnistOptions): { train: ImageDataset; test: ImageDataset; digits: number[] } {
  const digits = [...(opts.digits ?? [0, 1, 2, 3])];
  if (digits.length < 2 || digits.some((d) => !Number.isInteger(d) || d < 0 || d > 9) || new Set(digits).size !== digits.length)
    throw new InflowError(`imbalancedMnist: digits ${describeValue(digits)} must be at least two distinct integers 0…9`);
  const counts = opts.counts;
  if (!Array.isArray(counts) || counts.length !== digits.length || counts.some((c) => !Number.isSafeInteger(c) || c < 0))
    throw new InflowError(`imbalancedMnist: counts ${describeValue(counts)} must be ${digits.length} non-negative integers, one per digit`);
  const { train, test } = mnistSplit();
  const pick = (d: ImageDataset, per: readonly (number | undefined)[], what: string): ImageDataset => {
    const idx: number[] = [], labels: number[] = [];
    digits.forEach((digit, k) => {
      const of = [...d.labels!.keys()].filter((i) => d.labels![i] === digit);
      const n = per[k] ?? of.length;
      if (n > of.length) throw new InflowError(`imbalancedMnist: ${n} ${what} images of digit ${digit} asked for, the split has ${of.length}`);
      for (const i of of.slice(0, n)) { idx.push(i); labels.push(k); }
    });
    // Interleaved by the split's own (already shuffled) order, so any prefix mixes the classes.
    const order = idx.map((_, j) => j).sort((a, b) => idx[a]! - idx[b]!);
    const out = subset(d, order.map((j) => idx[j]!), `mnist-${digits.join('')}-${what}`);
    out.labels = Int32Array.from(order.map((j) => labels[j]!));
    return out;
  };
  const tp = opts.testPerClass;
  if (tp !== undefined && (!Number.isSafeInteger(tp) || tp < 1)) throw new InflowError(`imbalancedMnist: testPerClass ${describeValue(tp)} must be a positive integer`);
  return { train: pick(train, counts, 'train'), test: pick(test, digits.map(() => tp), 'test'), digits };
}
