import { flip } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

export const cases: OpCase[] = [
  { name: 'h 1×1×3×5', inputs: [{ shape: [1, 1, 3, 5] }], run: ([x]) => flip(x!, { h: true }) },
  { name: 'w 5×3×4×7', inputs: [{ shape: [5, 3, 4, 7] }], run: ([x]) => flip(x!, { w: true }) },
  { name: 'hw 2×3×5×3', inputs: [{ shape: [2, 3, 5, 3] }], run: ([x]) => flip(x!, { h: true, w: true }) },
];
