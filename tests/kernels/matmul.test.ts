import { describe, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { runKernel } from '../helpers/kernels.js';
import { expectIdentical, tensor } from './parity.js';

describe('wasm matmul threads', () => {
  it('threads = 2 gives bit-identical results to threads = 1', async () => {
    const one = await createWasmBackend({ threads: 1 }), two = await createWasmBackend({ threads: 2 });
    try {
      // Packed b with several row blocks and K chunks, then b read in place (few rows; see assembly/matmul.ts).
      for (const [M, K, N] of [[67, 45, 71], [141, 300, 37], [40, 300, 37]] as const) {
        const a = tensor([3, M, K], 1), bt = tensor([3, K, N], 2);
        for (const transposeB of [false, true]) {
          const bIn = transposeB ? tensor([3, N, K], 3) : bt;
          const attrs = { transposeA: false, transposeB };
          expectIdentical(await runKernel(one, 'matmul', [a, bIn], [3, M, N], attrs),
            await runKernel(two, 'matmul', [a, bIn], [3, M, N], attrs), `${M}×${K}·${K}×${N} transposeB=${transposeB}`);
        }
      }
    } finally {
      one.dispose();
      two.dispose();
    }
  });
});
