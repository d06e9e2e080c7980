import { batchNorm, batchNormStats, groupNorm, layerNorm } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

// Weights and running variances stay away from 0 so every case is well conditioned.
const W = (c: number) => ({ shape: [c], lo: 0.5, hi: 1.5 });
const B = (c: number) => ({ shape: [c] });

export const cases: OpCase[] = [
  // GroupNorm: groups 1, 2, C and between; channels not multiples of 4; batch 1 and 5; rank 2–4.
  ...[1, 2, 3, 6].map((g): OpCase => ({
    name: `groupNorm ${g} groups of 2×6×3×5, affine`, inputs: [{ shape: [2, 6, 3, 5] }, W(6), B(6)],
    run: ([x, w, b]) => groupNorm(x!, g, { weight: w, bias: b }),
  })),
  { name: 'groupNorm 5 groups of 1×5×4×3', inputs: [{ shape: [1, 5, 4, 3] }], run: ([x]) => groupNorm(x!, 5) },
  { name: 'groupNorm 2 groups of 5×4×2×3, weight only, eps 1e-3', inputs: [{ shape: [5, 4, 2, 3] }, W(4)],
    run: ([x, w]) => groupNorm(x!, 2, { weight: w, eps: 1e-3 }) },
  { name: 'groupNorm 3 groups of 3×6 (one position)', inputs: [{ shape: [3, 6] }, W(6), B(6)],
    run: ([x, w, b]) => groupNorm(x!, 3, { weight: w, bias: b }) },
  { name: 'groupNorm 2 groups of 2×8 (one position)', inputs: [{ shape: [2, 8] }, W(8), B(8)],
    run: ([x, w, b]) => groupNorm(x!, 2, { weight: w, bias: b }) },
  { name: 'groupNorm 3 groups of 2×12×5, bias only', inputs: [{ shape: [2, 12, 5] }, B(12)], run: ([x, b]) => groupNorm(x!, 3, { bias: b }) },
  { name: 'groupNorm 2 groups of 2×4×3×3 around 100', inputs: [{ shape: [2, 4, 3, 3], lo: 100, hi: 102 }, W(4), B(4)],
    run: ([x, w, b]) => groupNorm(x!, 2, { weight: w, bias: b }) },
  { name: 'groupNorm 2 groups of 2×4×2×3×2 (rank 5), affine', inputs: [{ shape: [2, 4, 2, 3, 2] }, W(4), B(4)],
    run: ([x, w, b]) => groupNorm(x!, 2, { weight: w, bias: b }) },
  // Parity only (the gradient is checked by the cases above).
  { name: 'groupNorm 8 groups of 2×32×16×16, affine', inputs: [{ shape: [2, 32, 16, 16] }, W(32), B(32)],
    run: ([x, w, b]) => groupNorm(x!, 8, { weight: w, bias: b }), grad: false },
  { name: 'groupNorm 4 groups of 5×12×7×9', inputs: [{ shape: [5, 12, 7, 9] }], run: ([x]) => groupNorm(x!, 4), grad: false },

  // LayerNorm over one or two trailing dimensions, with and without affine.
  { name: 'layerNorm [10] of 4×10, affine', inputs: [{ shape: [4, 10] }, W(10), B(10)],
    run: ([x, w, b]) => layerNorm(x!, [10], { weight: w, bias: b }) },
  { name: 'layerNorm [4, 5] of 2×3×4×5, affine', inputs: [{ shape: [2, 3, 4, 5] }, { shape: [4, 5], lo: 0.5, hi: 1.5 }, { shape: [4, 5] }],
    run: ([x, w, b]) => layerNorm(x!, [4, 5], { weight: w, bias: b }) },
  { name: 'layerNorm [2, 3] of 2×2×1×2×3 (rank 5)', inputs: [{ shape: [2, 2, 1, 2, 3] }, { shape: [2, 3], lo: 0.5, hi: 1.5 }, { shape: [2, 3] }],
    run: ([x, w, b]) => layerNorm(x!, [2, 3], { weight: w, bias: b }) },
  { name: 'layerNorm [7] of 3×7', inputs: [{ shape: [3, 7] }], run: ([x]) => layerNorm(x!, [7]) },
  { name: 'layerNorm [6] of 2×5×6, bias only', inputs: [{ shape: [2, 5, 6] }, B(6)], run: ([x, b]) => layerNorm(x!, [6], { bias: b }) },
  { name: 'layerNorm [3, 5] of 3×5 (one row)', inputs: [{ shape: [3, 5] }, { shape: [3, 5], lo: 0.5, hi: 1.5 }],
    run: ([x, w]) => layerNorm(x!, [3, 5], { weight: w }) },
  { name: 'layerNorm [100] of 64×100, affine', inputs: [{ shape: [64, 100] }, W(100), B(100)],
    run: ([x, w, b]) => layerNorm(x!, [100], { weight: w, bias: b }), grad: false },

  // BatchNorm, training: batch statistics over N and every position.
  { name: 'batchNorm training 5×3×2×3, affine', inputs: [{ shape: [5, 3, 2, 3] }, W(3), B(3)],
    run: ([x, w, b]) => batchNorm(x!, { training: true, weight: w, bias: b }) },
  { name: 'batchNorm training 1×6×3×4 (batch 1)', inputs: [{ shape: [1, 6, 3, 4] }, W(6), B(6)],
    run: ([x, w, b]) => batchNorm(x!, { training: true, weight: w, bias: b }) },
  { name: 'batchNorm training 4×5 (rank 2), affine', inputs: [{ shape: [4, 5] }, W(5), B(5)],
    run: ([x, w, b]) => batchNorm(x!, { training: true, weight: w, bias: b }) },
  { name: 'batchNorm training 2×3×5', inputs: [{ shape: [2, 3, 5] }], run: ([x]) => batchNorm(x!, { training: true }) },
  { name: 'batchNorm training 5×12×9×7, affine', inputs: [{ shape: [5, 12, 9, 7] }, W(12), B(12)],
    run: ([x, w, b]) => batchNorm(x!, { training: true, weight: w, bias: b }), grad: false },
  // Eval: running statistics given; their gradients are checked too.
  { name: 'batchNorm eval 3×5×2×4, affine', inputs: [{ shape: [3, 5, 2, 4] }, { shape: [5], lo: -0.5, hi: 0.5 }, W(5), W(5), B(5)],
    run: ([x, m, v, w, b]) => batchNorm(x!, { training: false, runningMean: m, runningVar: v, weight: w, bias: b }) },
  { name: 'batchNorm eval 2×3×5', inputs: [{ shape: [2, 3, 5] }, { shape: [3], lo: -0.5, hi: 0.5 }, W(3)],
    run: ([x, m, v]) => batchNorm(x!, { training: false, runningMean: m, runningVar: v }) },
  // The statistics a BatchNorm module tracks (constants: no gradient).
  { name: 'batchNormStats mean of 5×6×3×2', inputs: [{ shape: [5, 6, 3, 2] }],
    run: ([x]) => x!.engine.scope(() => batchNormStats(x!).mean), grad: false },
  { name: 'batchNormStats var of 5×6×3×2', inputs: [{ shape: [5, 6, 3, 2] }],
    run: ([x]) => x!.engine.scope(() => batchNormStats(x!).var), grad: false },
];
