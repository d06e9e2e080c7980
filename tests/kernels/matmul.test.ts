import { afterAll, describe, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { backendsUnderTest, disposeAll } from '../helpers/backends.js';
import { runKernel } from '../helpers/kernels.js';
import { expectIdentical, expectParity, others, reference, tensor } from './parity.js';

const list = await backendsUnderTest();
afterAll(() => disposeAll(list));
const ref = reference(list);

// [B, Ba, Bb, M, K, N]: odd sizes, widths around the 8-column panels, rows not a multiple of 4, broadcasts;
// the last two span several 64-row blocks and 256-step K chunks with overhanging rows and columns.
const cases = [
  [1, 1, 1, 5, 7, 9], [3, 3, 3, 4, 8, 16], [2, 1, 2, 13, 5, 11], [2, 2, 1, 6, 33, 3], [1, 1, 1, 1, 1, 1], [4, 4, 4, 9, 17, 12],
  [2, 1, 2, 70, 521, 13], [1, 1, 1, 131, 260, 24],
] as const;

for (const b of others(list)) {
  describe(`matmul on ${b.name}`, () => {
    for (const [B, Ba, Bb, M, K, N] of cases)
      for (const transposeA of [false, true])
        for (const transposeB of [false, true]) {
          const label = `B${B} (Ba ${Ba}, Bb ${Bb}) ${M}×${K}·${K}×${N} tA=${transposeA} tB=${transposeB}`;
          it.skipIf(!b.backend)(label, async () => {
            const s = 1 / Math.sqrt(K);
            const a = tensor(transposeA ? [Ba, K, M] : [Ba, M, K], M * 7 + K, -s, s);
            const bt = tensor(transposeB ? [Bb, N, K] : [Bb, K, N], N * 13 + K);
            await expectParity(ref, b.backend!, 'matmul', [a, bt], [B, M, N], { transposeA, transposeB }, label);
          });
        }
  });
}

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
