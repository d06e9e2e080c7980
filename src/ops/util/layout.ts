import { strides } from '../../backends/strides.js';
import { numel } from '../../engine/shape.js';

/**
 * Index helpers of the layout ops (concat, slice, gather, permute): shapes are row-major, so an
 * axis splits a tensor into outer × axis × inner blocks, and a permutation is a strided read.
 */

/** outer × axis × inner decomposition of a shape around `axis`. */
export function around(shape: readonly number[], axis: number): [number, number, number] {
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}

/** `perm` inverted: inverse[perm[i]] = i. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => { inv[p] = i; });
  return inv;
}

/**
 * A permutation reduced to what a kernel must do: size-1 axes dropped and runs of output axes that
 * are also adjacent, in order, in the input merged into one. `dims` are the output's remaining
 * dimensions (row-major), `xStrides` the input stride of each. Rank 1 (or 0) means a plain copy.
 */
export function permutePlan(xShape: readonly number[], perm: readonly number[]): { dims: number[]; xStrides: number[] } {
  const kept = xShape.map((_, a) => a).filter((a) => xShape[a]! > 1);
  const renumber = new Map(kept.map((a, i) => [a, i]));
  const order = perm.filter((a) => xShape[a]! > 1).map((a) => renumber.get(a)!);
  // Runs of consecutive input axes, in output order: each becomes one axis.
  const runs: number[][] = [];
  for (const a of order) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === a - 1) last.push(a);
    else runs.push([a]);
  }
  // The merged input shape, its axes in input order.
  const byStart = [...runs].sort((r, s) => r[0]! - s[0]!);
  const mergedDims = byStart.map((r) => numel(r.map((a) => xShape[kept[a]!]!)));
  const mergedStrides = strides(mergedDims);
  const position = new Map(byStart.map((r, i) => [r[0]!, i]));
  return {
    dims: runs.map((r) => mergedDims[position.get(r[0]!)!]!),
    xStrides: runs.map((r) => mergedStrides[position.get(r[0]!)!]!),
  };
}
