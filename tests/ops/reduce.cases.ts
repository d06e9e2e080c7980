import { logsumexp, max, mean, sum, sumSquares } from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import type { OpCase } from './case.js';

type Reduction = (x: Tensor, axes?: readonly number[], keepDims?: boolean) => Tensor;
const fns: Array<[string, Reduction]> = [['sum', sum], ['mean', mean], ['sumSquares', sumSquares], ['max', max], ['logsumexp', logsumexp]];
const label = (axes: readonly number[] | undefined) => (axes ? `[${axes}]` : 'all');

// Every axis pattern a rank-4 tensor has, once merged (a single run, kept–reduced, reduced–kept–reduced, …).
const axesSets: Array<readonly number[] | undefined> = [[0], [1], [3], [2, 3], [1, 3], [0, 2, 3], [0, 2], undefined];

export const cases: OpCase[] = [
  // Parity on a mid-sized odd shape; the gradient is checked by the 2×3×2×5 cases below.
  ...fns.flatMap(([name, f]) => axesSets.map((axes): OpCase => ({
    name: `${name} ${label(axes)} of 3×5×4×7`, inputs: [{ shape: [3, 5, 4, 7] }], run: ([x]) => f(x!, axes), grad: false,
  }))),
  ...fns.flatMap(([name, f]) => ([[1], [0, 2, 3], [1, 3], undefined] as const).map((axes): OpCase => ({
    name: `${name} ${label(axes)} of 2×3×2×5, keepDims`, inputs: [{ shape: [2, 3, 2, 5] }], run: ([x]) => f(x!, axes, true),
  }))),
  ...fns.map(([name, f]): OpCase => ({ name: `${name} [-1] of 5×7`, inputs: [{ shape: [5, 7] }], run: ([x]) => f(x!, [-1]) })),
  ...fns.map(([name, f]): OpCase => ({ name: `${name} [0] of 9×1×3`, inputs: [{ shape: [9, 1, 3] }], run: ([x]) => f(x!, [0]) })),
  { name: 'sum [] (no axis) of 4×3', inputs: [{ shape: [4, 3] }], run: ([x]) => sum(x!, []) },
  { name: 'mean all of 6', inputs: [{ shape: [6] }], run: ([x]) => mean(x!) },
  // Ranks 5 and 6: axes alternating more than four times reduce in two steps.
  ...fns.map(([name, f]): OpCase => ({
    name: `${name} [0,2,4] of 2×3×2×3×2×3`, inputs: [{ shape: [2, 3, 2, 3, 2, 3] }], run: ([x]) => f(x!, [0, 2, 4]),
  })),
  { name: 'logsumexp [1,3,5] of 2×3×2×3×2×3, keepDims', inputs: [{ shape: [2, 3, 2, 3, 2, 3] }], run: ([x]) => logsumexp(x!, [1, 3, 5], true) },
  { name: 'mean [1,2] of 2×3×4×2×3', inputs: [{ shape: [2, 3, 4, 2, 3] }], run: ([x]) => mean(x!, [1, 2]) },
  // Many elements per output: the WebGPU workgroup tree and the wasm blocked sums (parity only).
  { name: 'sum [2, 3] of 1×1×150×301', inputs: [{ shape: [1, 1, 150, 301] }], run: ([x]) => sum(x!, [2, 3]), grad: false },
  { name: 'logsumexp [1] of 2×300×5', inputs: [{ shape: [2, 300, 5] }], run: ([x]) => logsumexp(x!, [1]), grad: false },
  // Large magnitudes: e^80 overflows float32, the shifted form does not.
  { name: 'logsumexp [1] of 2×6×5 in ±80', inputs: [{ shape: [2, 6, 5], lo: -80, hi: 80 }], run: ([x]) => logsumexp(x!, [1]) },
  { name: 'logsumexp all of 3×40 in ±80', inputs: [{ shape: [3, 40], lo: -80, hi: 80 }], run: ([x]) => logsumexp(x!), grad: false },
  { name: 'logsumexp [-1] of 4×33 in 60…80', inputs: [{ shape: [4, 33], lo: 60, hi: 80 }], run: ([x]) => logsumexp(x!, [-1], true), grad: false },
];
