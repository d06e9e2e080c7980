import { resize } from '../../src/ops/index.js';
import { gradientOf as backward } from '../helpers/backward.js';
import type { OpCase } from './case.js';

export const cases: OpCase[] = [
  // Nearest.
  { name: 'nearest up 2× 1×3×4×5', inputs: [{ shape: [1, 3, 4, 5] }], run: ([x]) => resize(x!, { scale: 2 }) },
  { name: 'nearest down 0.5× 1×3×8×10', inputs: [{ shape: [1, 3, 8, 10] }], run: ([x]) => resize(x!, { scale: 0.5 }) },
  { name: 'nearest 7→10 × 10→7, 1×3×7×10', inputs: [{ shape: [1, 3, 7, 10] }], run: ([x]) => resize(x!, { size: [10, 7] }) },
  // Parity only (grad: false): the gradient is checked by the small cases.
  { name: 'nearest scale [1.5, 0.7] 5×6×9×13', inputs: [{ shape: [5, 6, 9, 13] }], grad: false, run: ([x]) => resize(x!, { scale: [1.5, 0.7] }) },
  { name: 'nearest up 2× 5×13×32×30', inputs: [{ shape: [5, 13, 32, 30] }], grad: false, run: ([x]) => resize(x!, { size: [64, 60] }) },

  // Bilinear.
  { name: 'bilinear up 2× 1×3×4×5', inputs: [{ shape: [1, 3, 4, 5] }], run: ([x]) => resize(x!, { mode: 'bilinear', scale: 2 }) },
  { name: 'bilinear down 0.5× 1×3×8×10', inputs: [{ shape: [1, 3, 8, 10] }], run: ([x]) => resize(x!, { mode: 'bilinear', scale: 0.5 }) },
  { name: 'bilinear 7→10 × 10→7, 1×3×7×10', inputs: [{ shape: [1, 3, 7, 10] }], run: ([x]) => resize(x!, { mode: 'bilinear', size: [10, 7] }) },
  { name: 'bilinear same size 1×3×5×6', inputs: [{ shape: [1, 3, 5, 6] }], run: ([x]) => resize(x!, { mode: 'bilinear', size: [5, 6] }) },
  {
    name: 'bilinear scale [1.5, 0.7] 5×6×9×13', inputs: [{ shape: [5, 6, 9, 13] }], grad: false,
    run: ([x]) => resize(x!, { mode: 'bilinear', scale: [1.5, 0.7] }),
  },
  // A third of the size: some input pixels are read by no output (their gradient is 0).
  { name: 'bilinear 31×29 → 10×9, 5×5', inputs: [{ shape: [5, 5, 31, 29] }], grad: false, run: ([x]) => resize(x!, { mode: 'bilinear', size: [10, 9] }) },
  { name: 'bilinear up 2× 5×13×32×30', inputs: [{ shape: [5, 13, 32, 30] }], grad: false, run: ([x]) => resize(x!, { mode: 'bilinear', scale: 2 }) },

  // Backward kernels on every backend (the output is a gradient; finite differences check the small cases).
  { name: 'grad bilinear 9×13 → 13×9, 5×6', inputs: [{ shape: [5, 6, 9, 13] }], grad: false, run: backward((x) => resize(x, { mode: 'bilinear', size: [13, 9] })) },
  { name: 'grad bilinear up 2× 2×13×32×30', inputs: [{ shape: [2, 13, 32, 30] }], grad: false, run: backward((x) => resize(x, { mode: 'bilinear', scale: 2 })) },
  { name: 'grad bilinear 31×29 → 10×9, 5×5', inputs: [{ shape: [5, 5, 31, 29] }], grad: false, run: backward((x) => resize(x, { mode: 'bilinear', size: [10, 9] })) },
  { name: 'grad nearest scale [1.5, 0.7] 5×6×9×13', inputs: [{ shape: [5, 6, 9, 13] }], grad: false, run: backward((x) => resize(x, { scale: [1.5, 0.7] })) },
  { name: 'grad nearest 31×29 → 10×9, 5×5', inputs: [{ shape: [5, 5, 31, 29] }], grad: false, run: backward((x) => resize(x, { size: [10, 9] })) },
];
