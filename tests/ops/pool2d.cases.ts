import { avgPool2d, maxPool2d } from '../../src/ops/index.js';
import { gradientOf as backward } from '../helpers/backward.js';
import type { OpCase } from './case.js';

export const cases: OpCase[] = [
  // Max pooling. Random inputs have no ties, so finite differences see a smooth function.
  { name: 'max k2 (stride 2) 1×3×6×8', inputs: [{ shape: [1, 3, 6, 8] }], run: ([x]) => maxPool2d(x!, 2) },
  { name: 'max k3 s1 pad 1, 2×3×5×7', inputs: [{ shape: [2, 3, 5, 7] }], run: ([x]) => maxPool2d(x!, 3, { stride: 1, pad: 1 }) },
  {
    name: 'max k3×2 s(2, 1) pad [1, 0, 1, 1] ceil 1×2×7×9', inputs: [{ shape: [1, 2, 7, 9] }],
    run: ([x]) => maxPool2d(x!, [3, 2], { stride: [2, 1], pad: [1, 0, 1, 1], ceilMode: true }),
  },
  { name: 'max k1 s3 1×5×7×8', inputs: [{ shape: [1, 5, 7, 8] }], run: ([x]) => maxPool2d(x!, 1, { stride: 3 }) },
  // Parity only (grad: false): the gradient is checked by the small cases above.
  { name: 'max k7 s3 pad 3, 5×6×23×19', inputs: [{ shape: [5, 6, 23, 19] }], grad: false, run: ([x]) => maxPool2d(x!, 7, { stride: 3, pad: 3 }) },
  {
    name: 'max k5×3 s(2, 3) pad [1, 2, 2, 0] ceil 5×3×17×20', inputs: [{ shape: [5, 3, 17, 20] }], grad: false,
    run: ([x]) => maxPool2d(x!, [5, 3], { stride: [2, 3], pad: [1, 2, 2, 0], ceilMode: true }),
  },
  { name: 'max k2 5×13×32×30', inputs: [{ shape: [5, 13, 32, 30] }], grad: false, run: ([x]) => maxPool2d(x!, 2) },

  // Average pooling.
  { name: 'avg k2 1×3×6×8', inputs: [{ shape: [1, 3, 6, 8] }], run: ([x]) => avgPool2d(x!, 2) },
  { name: 'avg k3 s1 pad 1 (padding counts) 2×3×5×7', inputs: [{ shape: [2, 3, 5, 7] }], run: ([x]) => avgPool2d(x!, 3, { stride: 1, pad: 1 }) },
  {
    name: 'avg k3 s2 pad 1 countIncludePad false 2×3×7×6', inputs: [{ shape: [2, 3, 7, 6] }],
    run: ([x]) => avgPool2d(x!, 3, { stride: 2, pad: 1, countIncludePad: false }),
  },
  // The last window overhangs the image: its divisor is clipped (2, not 3) in both modes.
  { name: 'avg k3 s2 ceil 1×3×8×8', inputs: [{ shape: [1, 3, 8, 8] }], run: ([x]) => avgPool2d(x!, 3, { stride: 2, ceilMode: true }) },
  {
    name: 'avg k4×3 s(3, 2) pad [2, 1, 1, 3] ceil, exclude pad, 1×2×9×8', inputs: [{ shape: [1, 2, 9, 8] }],
    run: ([x]) => avgPool2d(x!, [4, 3], { stride: [3, 2], pad: [2, 1, 1, 3], ceilMode: true, countIncludePad: false }),
  },
  {
    name: 'avg k6×5 s(1, 2) pad [2, 2, 3, 3] 5×7×13×11', inputs: [{ shape: [5, 7, 13, 11] }], grad: false,
    run: ([x]) => avgPool2d(x!, [6, 5], { stride: [1, 2], pad: [2, 2, 3, 3] }),
  },
  { name: 'avg k2 5×13×32×30', inputs: [{ shape: [5, 13, 32, 30] }], grad: false, run: ([x]) => avgPool2d(x!, 2) },

  // Backward kernels on every backend (the output is a gradient; finite differences check the cases above).
  {
    name: 'grad max k3 s2 pad 1, 5×3×17×20', inputs: [{ shape: [5, 3, 17, 20] }], grad: false,
    run: backward((x) => maxPool2d(x, 3, { stride: 2, pad: 1 })),
  },
  { name: 'grad max k2 5×13×32×30', inputs: [{ shape: [5, 13, 32, 30] }], grad: false, run: backward((x) => maxPool2d(x, 2)) },
  {
    name: 'grad max k7×4 s(3, 1) pad [1, 3, 3, 2] ceil 1×6×23×19', inputs: [{ shape: [1, 6, 23, 19] }], grad: false,
    run: backward((x) => maxPool2d(x, [7, 4], { stride: [3, 1], pad: [1, 3, 3, 2], ceilMode: true })),
  },
  {
    name: 'grad avg k3 s2 pad 1 ceil, exclude pad, 5×3×17×20', inputs: [{ shape: [5, 3, 17, 20] }], grad: false,
    run: backward((x) => avgPool2d(x, 3, { stride: 2, pad: 1, ceilMode: true, countIncludePad: false })),
  },
  {
    name: 'grad avg k5 s1 pad 2, 2×6×13×11', inputs: [{ shape: [2, 6, 13, 11] }], grad: false,
    run: backward((x) => avgPool2d(x, 5, { stride: 1, pad: 2 })),
  },
  { name: 'grad avg k2 s3 1×5×10×14', inputs: [{ shape: [1, 5, 10, 14] }], grad: false, run: backward((x) => avgPool2d(x, 2, { stride: 3 })) },
];
