import { matmul } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

// Odd sizes, rows not a multiple of 4, widths around the 8-column panels, broadcast batches, every
// transpose; the larger ones (parity only) span several 64-row blocks and 256-step K chunks of the wasm kernel.
const shapes: Array<[number, number, number, number, number, boolean]> = [
  // [Ba, Bb, M, K, N, gradient-checked]
  [1, 1, 5, 7, 9, true], [3, 3, 4, 8, 16, false], [2, 1, 13, 5, 11, false], [2, 2, 6, 33, 3, false], [1, 1, 1, 1, 1, true],
  [1, 2, 3, 5, 4, true], [2, 1, 70, 521, 13, false], [1, 1, 131, 260, 24, false],
];

export const cases: OpCase[] = shapes.flatMap(([Ba, Bb, M, K, N, checked]) =>
  [false, true].flatMap((transposeA) => [false, true].map((transposeB): OpCase => {
    const s = 1 / Math.sqrt(K);
    return {
      name: `${Ba}×${M}×${K}${transposeA ? 'ᵀ' : ''} · ${Bb}×${K}×${N}${transposeB ? 'ᵀ' : ''}`,
      inputs: [
        { shape: transposeA ? [Ba, K, M] : [Ba, M, K], lo: -s, hi: s },
        { shape: transposeB ? [Bb, N, K] : [Bb, K, N] },
      ],
      run: ([a, b]) => matmul(a!, b!, { transposeA, transposeB }),
      // The gradient is two matmuls; the small shapes check every transpose and broadcast of it.
      grad: checked,
    };
  })));

cases.push({ name: 'rank 2: 7×3 · 3×5', inputs: [{ shape: [7, 3] }, { shape: [3, 5] }], run: ([a, b]) => matmul(a!, b!) });
