import { Rng } from '../../src/data/rng.js';
import type { PoolProbs } from '../../src/active/pool-probs.js';

/** A pool from per-item lists of per-pass rows: items[i][k] is p_k(· | x_i). */
export function table(items: number[][][]): PoolProbs {
  const K = items[0]!.length, C = items[0]![0]!.length, N = items.length;
  const probs = new Float64Array(K * N * C);
  items.forEach((passes, i) => passes.forEach((row, k) => row.forEach((v, c) => { probs[(k * N + i) * C + c] = v; })));
  return { passes: K, classes: C, probs };
}

/**
 * Random MC probabilities: each pass of each item a softmax of normal logits × `sharpness`, so
 * passes disagree by different amounts from item to item.
 */
export function randomTable(K: number, N: number, C: number, seed: number, sharpness = 2): PoolProbs {
  const rng = new Rng(seed), items: number[][][] = [];
  for (let i = 0; i < N; i++) {
    const bias = Array.from({ length: C }, () => rng.normal() * sharpness * rng.uniform() * 2);
    items.push(Array.from({ length: K }, () => {
      const z = bias.map((b) => b + sharpness * rng.normal());
      const m = Math.max(...z), e = z.map((v) => Math.exp(v - m)), s = e.reduce((a, b) => a + b);
      return e.map((v) => v / s);
    }));
  }
  return table(items);
}

/** Item i's passes back out of a table. */
export function itemOf(pool: PoolProbs, i: number): number[][] {
  const K = pool.passes, C = pool.classes, N = pool.probs.length / (K * C);
  return Array.from({ length: K }, (_, k) => Array.from({ length: C }, (_, c) => pool.probs[(k * N + i) * C + c]!));
}
