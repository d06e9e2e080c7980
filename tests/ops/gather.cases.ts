import { gather, gatherGrad } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

/** Deterministic integer indices in [0, V), with repeats. */
const picks = (count: number, V: number): number[] => Array.from({ length: count }, (_, k) => (k * 7 + 3) % V);

export const cases: OpCase[] = [
  {
    name: 'embedding 7×5 table, 6 indices with repeats', inputs: [{ shape: [7, 5] }, { shape: [6], data: [3, 0, 6, 3, 1, 3] }],
    run: ([t, i]) => gather(t!, i!), grad: [0],
  },
  {
    name: 'embedding 10×3 table, 2×4 indices', inputs: [{ shape: [10, 3] }, { shape: [2, 4], data: picks(8, 10) }],
    run: ([t, i]) => gather(t!, i!), grad: [0],
  },
  {
    name: 'axis 1 of 2×5×3, 4 indices', inputs: [{ shape: [2, 5, 3] }, { shape: [4], data: [4, 4, 0, 2] }],
    run: ([x, i]) => gather(x!, 1, i!), grad: [0],
  },
  {
    name: 'axis −1 of 3×4×6, 2×2 indices', inputs: [{ shape: [3, 4, 6] }, { shape: [2, 2], data: [5, 0, 1, 5] }],
    run: ([x, i]) => gather(x!, -1, i!), grad: [0],
  },
  {
    name: 'scalar index into 4×3', inputs: [{ shape: [4, 3] }, { shape: [], data: [2] }],
    run: ([x, i]) => gather(x!, i!), grad: [0],
  },
  {
    name: 'rank 6 result: axis 1 of 2×3×4 by 2×1×2×1 indices', inputs: [{ shape: [2, 3, 4] }, { shape: [2, 1, 2, 1], data: [2, 0, 2, 1] }],
    run: ([x, i]) => gather(x!, 1, i!), grad: [0],
  },
  {
    name: 'gatherGrad of a 7×5 table, 6 indices with repeats', inputs: [{ shape: [6, 5] }, { shape: [6], data: [3, 0, 6, 3, 1, 3] }],
    run: ([dy, i]) => gatherGrad(dy!, i!, [7, 5], 0), grad: [0],
  },
  {
    name: 'gatherGrad along axis 1 of 3×9×5, 12 indices', inputs: [{ shape: [3, 12, 5] }, { shape: [12], data: picks(12, 9) }],
    run: ([dy, i]) => gatherGrad(dy!, i!, [3, 9, 5], 1), grad: [0],
  },
  // Parity only (the gradients are checked by the small cases): rows longer than a SIMD block.
  {
    name: 'embedding 50×37 table, 64 indices', inputs: [{ shape: [50, 37] }, { shape: [64], data: picks(64, 50) }],
    run: ([t, i]) => gather(t!, i!), grad: false,
  },
  {
    name: 'gatherGrad of a 50×37 table, 64 indices', inputs: [{ shape: [64, 37] }, { shape: [64], data: picks(64, 50) }],
    run: ([dy, i]) => gatherGrad(dy!, i!, [50, 37], 0), grad: false,
  },
];
