import { logSoftmax, softmax } from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import type { OpCase } from './case.js';

const fns: Array<[string, (x: Tensor, axis?: number) => Tensor]> = [['softmax', softmax], ['logSoftmax', logSoftmax]];

export const cases: OpCase[] = fns.flatMap(([name, f]): OpCase[] => [
  { name: `${name} last axis of 5×7`, inputs: [{ shape: [5, 7] }], run: ([x]) => f(x!) },
  { name: `${name} last axis of 2×3×4×5`, inputs: [{ shape: [2, 3, 4, 5] }], run: ([x]) => f(x!, -1) },
  { name: `${name} channels of 2×5×3×4`, inputs: [{ shape: [2, 5, 3, 4] }], run: ([x]) => f(x!, 1) },
  { name: `${name} axis 0 of 6×3`, inputs: [{ shape: [6, 3] }], run: ([x]) => f(x!, 0) },
  { name: `${name} axis 2 of 1×3×6×2`, inputs: [{ shape: [1, 3, 6, 2] }], run: ([x]) => f(x!, 2) },
  { name: `${name} axis 2 of 2×1×3×2×2×3 (rank 6)`, inputs: [{ shape: [2, 1, 3, 2, 2, 3] }], run: ([x]) => f(x!, 2) },
  { name: `${name} of one element`, inputs: [{ shape: [3, 1] }], run: ([x]) => f(x!) },
  // Large magnitudes: e^80 overflows float32, e^(x − max) does not.
  { name: `${name} last axis of 4×9 in ±80`, inputs: [{ shape: [4, 9], lo: -80, hi: 80 }], run: ([x]) => f(x!) },
  // Parity-only shapes (gradients are checked by the small cases above): long rows with SIMD
  // tails, channels with one and two (256-column) wasm chunks and tails, and ±80/±88.
  { name: `${name} last axis of 3×257`, inputs: [{ shape: [3, 257] }], run: ([x]) => f(x!), grad: false },
  // 1063 = 4 full 256-float f64 blocks, a partial one, one 4-float step and 3 single floats.
  { name: `${name} last axis of 2×1063 in ±88`, inputs: [{ shape: [2, 1063], lo: -88, hi: 88 }], run: ([x]) => f(x!), grad: false },
  { name: `${name} channels of 5×3×9×15`, inputs: [{ shape: [5, 3, 9, 15] }], run: ([x]) => f(x!, 1), grad: false },
  { name: `${name} channels of 2×3×17×19`, inputs: [{ shape: [2, 3, 17, 19] }], run: ([x]) => f(x!, 1), grad: false },
  { name: `${name} channels of 2×6×3×3 in ±80`, inputs: [{ shape: [2, 6, 3, 3], lo: -80, hi: 80 }], run: ([x]) => f(x!, 1), grad: false },
]);
