import { pad, padGrad, type PadGradAttrs } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

/** padGrad on its own, so its wasm and WebGPU kernels face the reference too (x: the unpadded shape). */
function gradCase(name: string, x: readonly number[], attrs: PadGradAttrs): OpCase {
  const [l, r, t, b] = attrs.pads;
  return { name, inputs: [{ shape: [x[0]!, x[1]!, x[2]! + t + b, x[3]! + l + r] }], run: ([dy]) => padGrad(dy!, attrs, x) };
}

export const cases: OpCase[] = [
  { name: 'zero [1, 2, 0, 3] 2×3×4×5', inputs: [{ shape: [2, 3, 4, 5] }], run: ([x]) => pad(x!, [1, 2, 0, 3]) },
  { name: 'constant 0.5 [2, 0, 1, 1] 1×3×5×4', inputs: [{ shape: [1, 3, 5, 4] }], run: ([x]) => pad(x!, [2, 0, 1, 1], 'constant', 0.5) },
  { name: 'zero, no padding, 1×1×2×3', inputs: [{ shape: [1, 1, 2, 3] }], run: ([x]) => pad(x!, [0, 0, 0, 0]) },
  { name: 'reflect [1, 3, 2, 3] 2×3×4×5', inputs: [{ shape: [2, 3, 4, 5] }], run: ([x]) => pad(x!, [1, 3, 2, 3], 'reflect') },
  { name: 'reflect [5, 2, 2, 2] 1×2×3×6 (both mirrors reach one row)', inputs: [{ shape: [1, 2, 3, 6] }], run: ([x]) => pad(x!, [5, 2, 2, 2], 'reflect') },
  { name: 'replicate [3, 1, 2, 4] batch 5, 5×3×3×4', inputs: [{ shape: [5, 3, 3, 4] }], run: ([x]) => pad(x!, [3, 1, 2, 4], 'replicate') },
  { name: 'replicate [2, 3, 1, 2] 1×2×1×1', inputs: [{ shape: [1, 2, 1, 1] }], run: ([x]) => pad(x!, [2, 3, 1, 2], 'replicate') },
  gradCase('padGrad zero [1, 2, 0, 3] of 2×3×4×5', [2, 3, 4, 5], { pads: [1, 2, 0, 3], mode: 'constant' }),
  gradCase('padGrad reflect [5, 2, 2, 2] of 1×2×3×6', [1, 2, 3, 6], { pads: [5, 2, 2, 2], mode: 'reflect' }),
  gradCase('padGrad replicate [3, 1, 2, 4] of 5×3×3×4', [5, 3, 3, 4], { pads: [3, 1, 2, 4], mode: 'replicate' }),
  // Parity only (the gradients are checked by the small cases): rows longer than a SIMD block.
  { name: 'reflect [4, 5, 3, 6] 2×3×33×37', inputs: [{ shape: [2, 3, 33, 37] }], run: ([x]) => pad(x!, [4, 5, 3, 6], 'reflect'), grad: false },
  { ...gradCase('padGrad reflect [4, 5, 3, 6] of 2×3×33×37', [2, 3, 33, 37], { pads: [4, 5, 3, 6], mode: 'reflect' }), grad: false },
  { ...gradCase('padGrad replicate [7, 1, 0, 2] of 1×5×9×13', [1, 5, 9, 13], { pads: [7, 1, 0, 2], mode: 'replicate' }), grad: false },
];
