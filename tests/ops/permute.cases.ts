import { permute, reshape, transpose } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

export const cases: OpCase[] = [
  { name: 'rank 1 [0] (a view)', inputs: [{ shape: [7] }], run: ([x]) => permute(x!, [0]) },
  { name: 'rank 2 transpose 5×7', inputs: [{ shape: [5, 7] }], run: ([x]) => transpose(x!) },
  { name: 'rank 3 [2, 0, 1] 2×3×5', inputs: [{ shape: [2, 3, 5] }], run: ([x]) => permute(x!, [2, 0, 1]) },
  { name: 'rank 4 NCHW → NHWC 5×3×4×6', inputs: [{ shape: [5, 3, 4, 6] }], run: ([x]) => permute(x!, [0, 2, 3, 1]) },
  { name: 'rank 4 NHWC → NCHW 1×4×6×3', inputs: [{ shape: [1, 4, 6, 3] }], run: ([x]) => permute(x!, [0, 3, 1, 2]) },
  { name: 'rank 4 transpose H, W 5×3×7×9', inputs: [{ shape: [5, 3, 7, 9] }], run: ([x]) => transpose(x!, 2, 3) },
  { name: 'rank 4 swap N, C (row copies) 5×3×4×6', inputs: [{ shape: [5, 3, 4, 6] }], run: ([x]) => permute(x!, [1, 0, 2, 3]) },
  { name: 'rank 4 [2, 3, 0, 1] (merged to 2-D) 2×3×4×5', inputs: [{ shape: [2, 3, 4, 5] }], run: ([x]) => permute(x!, [2, 3, 0, 1]) },
  { name: 'rank 4 moving a size-1 axis (a view) 5×1×3×2', inputs: [{ shape: [5, 1, 3, 2] }], run: ([x]) => permute(x!, [1, 0, 2, 3]) },
  { name: 'rank 5 [4, 2, 0, 3, 1] 2×3×1×4×5', inputs: [{ shape: [2, 3, 1, 4, 5] }], run: ([x]) => permute(x!, [4, 2, 0, 3, 1]) },
  { name: 'rank 6 [5, 3, 1, 0, 2, 4] 2×3×2×1×3×2', inputs: [{ shape: [2, 3, 2, 1, 3, 2] }], run: ([x]) => permute(x!, [5, 3, 1, 0, 2, 4]) },
  {
    name: 'rank 6 patches of 1×3×6×8 (reshape, permute, reshape)', inputs: [{ shape: [1, 3, 6, 8] }],
    run: ([x]) => x!.engine.scope(() => reshape(permute(reshape(x!, [1, 3, 3, 2, 4, 2]), [0, 2, 4, 3, 5, 1]), [12, 12])),
  },
  {
    // Parity only (the gradient is checked by the small cases): several 32 × 32 tiles with ragged
    // edges, batched.
    name: 'rank 3 transpose 3×70×45', inputs: [{ shape: [3, 70, 45] }], run: ([x]) => transpose(x!), grad: false,
  },
  {
    name: 'rank 6 reverse 3×5×2×7×3×6', inputs: [{ shape: [3, 5, 2, 7, 3, 6] }], run: ([x]) => permute(x!, [5, 4, 3, 2, 1, 0]), grad: false,
  },
];
