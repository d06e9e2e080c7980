import { concat, slice, split } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

// Cases that chain ops run them in a scope, so only their result outlives the call.

/** Small shapes of rank 3–6 with no two equal neighbours, so a wrong axis shows. */
const bases: readonly (readonly number[])[] = [[2, 3, 5], [2, 3, 1, 4], [2, 1, 3, 2, 3], [2, 1, 3, 2, 1, 3]];
const withAxis = (base: readonly number[], axis: number, n: number) => base.map((d, i) => (i === axis ? n : d));

const everyAxis: OpCase[] = bases.flatMap((base) => base.flatMap((_, axis): OpCase[] => [
  {
    name: `concat of 3 along axis ${axis} of rank ${base.length}`,
    inputs: [1, 3, 2].map((n) => ({ shape: withAxis(base, axis, n) })),
    run: (xs) => concat(xs, axis),
  },
  {
    name: `slice [1, 3) of axis ${axis} of rank ${base.length}`,
    inputs: [{ shape: withAxis(base, axis, 4) }],
    run: ([x]) => slice(x!, axis, 1, 2),
  },
]));

export const cases: OpCase[] = [
  ...everyAxis,
  { name: 'concat channels, batch 5: 5×3×4×6 + 5×2×4×6', inputs: [{ shape: [5, 3, 4, 6] }, { shape: [5, 2, 4, 6] }], run: (xs) => concat(xs) },
  { name: 'concat channels, batch 1: 1×5×3×7 + 1×2×3×7 + 1×1×3×7', inputs: [{ shape: [1, 5, 3, 7] }, { shape: [1, 2, 3, 7] }, { shape: [1, 1, 3, 7] }], run: (xs) => concat(xs) },
  { name: 'concat of one tensor along axis −1', inputs: [{ shape: [3, 5] }], run: (xs) => concat(xs, -1) },
  { name: 'slice the last channel of 5×3×2×3', inputs: [{ shape: [5, 3, 2, 3] }], run: ([x]) => slice(x!, 1, 2, 1) },
  { name: 'split 2 + 3 + 2 along channels, concatenated in reverse', inputs: [{ shape: [2, 7, 3, 2] }], run: ([x]) => x!.engine.scope(() => concat(split(x!, [2, 3, 2], 1).reverse(), 1)) },
  { name: 'split into 3 equal parts along axis −1, middle part', inputs: [{ shape: [2, 3, 9] }], run: ([x]) => x!.engine.scope(() => split(x!, 3, -1)[1]!) },
  {
    // Parity only (the gradients are checked by the small cases): many short rows, then long ones.
    name: 'concat 3×70×45 + 3×70×2 along the last axis', inputs: [{ shape: [3, 70, 45] }, { shape: [3, 70, 2] }], run: (xs) => concat(xs, 2), grad: false,
  },
  { name: 'slice rows 5 … 64 of 3×70×45', inputs: [{ shape: [3, 70, 45] }], run: ([x]) => slice(x!, 1, 5, 60), grad: false },
];
