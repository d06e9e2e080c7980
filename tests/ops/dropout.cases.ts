import { dropout } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

// dropout is linear in x for a fixed seed, so its gradient is checked by finite differences too.
export const cases: OpCase[] = [
  { name: 'p 0.5 2×3×5×7', inputs: [{ shape: [2, 3, 5, 7] }], run: ([x]) => dropout(x!, 0.5, { seed: 1 }) },
  { name: 'p 0.1 rank 2 [7, 11]', inputs: [{ shape: [7, 11] }], run: ([x]) => dropout(x!, 0.1, { seed: 99 }) },
  { name: 'p 0.9 5×3×9×13 (odd tail)', inputs: [{ shape: [5, 3, 9, 13] }], grad: false, run: ([x]) => dropout(x!, 0.9, { seed: 2 ** 33 }) },
  // grad: false: the gradient is checked by the smaller cases above.
  { name: 'p 0.3 5×6×33×35', inputs: [{ shape: [5, 6, 33, 35] }], grad: false, run: ([x]) => dropout(x!, 0.3, { seed: 5 }) },
  { name: 'eval mode is the identity', inputs: [{ shape: [1, 3, 4, 5] }], run: ([x]) => dropout(x!, 0.5, { seed: 1, training: false }) },
];
