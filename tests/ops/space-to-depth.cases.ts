import { squeeze, unsqueeze } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

export const cases: OpCase[] = [
  { name: 'squeeze 2×3×4×6', inputs: [{ shape: [2, 3, 4, 6] }], run: ([x]) => squeeze(x!) },
  { name: 'squeeze 1×1×2×2', inputs: [{ shape: [1, 1, 2, 2] }], run: ([x]) => squeeze(x!) },
  { name: 'squeeze batch 5, 5×3×8×2', inputs: [{ shape: [5, 3, 8, 2] }], run: ([x]) => squeeze(x!) },
  { name: 'squeeze 1×5×6×10 (one SIMD block and a tail per row)', inputs: [{ shape: [1, 5, 6, 10] }], run: ([x]) => squeeze(x!) },
  { name: 'unsqueeze 2×12×3×2', inputs: [{ shape: [2, 12, 3, 2] }], run: ([x]) => unsqueeze(x!) },
  { name: 'unsqueeze batch 5, 5×20×2×5', inputs: [{ shape: [5, 20, 2, 5] }], run: ([x]) => unsqueeze(x!) },
  { name: 'unsqueeze of squeeze 1×3×4×2', inputs: [{ shape: [1, 3, 4, 2] }], run: ([x]) => x!.engine.scope(() => unsqueeze(squeeze(x!))) },
  // Parity only (the gradients are checked by the small cases).
  { name: 'squeeze 2×3×16×18', inputs: [{ shape: [2, 3, 16, 18] }], run: ([x]) => squeeze(x!), grad: false },
  { name: 'unsqueeze 2×12×9×11', inputs: [{ shape: [2, 12, 9, 11] }], run: ([x]) => unsqueeze(x!), grad: false },
];
