import { afterAll, describe, it } from 'vitest';
import type { ReduceFn } from '../../src/backends/backend.js';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { backendsUnderTest, disposeAll } from '../helpers/backends.js';
import { runKernel } from '../helpers/kernels.js';
import { expectIdentical, expectParity, others, reference, tensor } from './parity.js';

const list = await backendsUnderTest();
afterAll(() => disposeAll(list));
const ref = reference(list);

const fns: ReduceFn[] = ['sum', 'mean', 'sumSquares', 'max'];
const axesSets = [[0], [1], [3], [2, 3], [1, 3], [0, 2, 3], [0, 1, 2, 3]];
const shapes = [[3, 5, 4, 7], [1, 2, 1, 9]];

for (const b of others(list)) {
  describe(`reduce on ${b.name}`, () => {
    for (const shape of shapes)
      for (const fn of fns)
        for (const axes of axesSets) {
          const label = `${fn} over [${axes}] of ${shape.join('×')}`;
          it.skipIf(!b.backend)(label, async () => {
            // Inputs scaled by 1/√count keep sums O(1), so the table's abs tolerance applies to them as is.
            const count = axes.reduce((a, ax) => a * shape[ax]!, 1);
            const s = fn === 'sum' ? 1 / Math.sqrt(count) : 1;
            const x = tensor(shape, 17, -s, s);
            const out = shape.map((d, i) => (axes.includes(i) ? 1 : d));
            await expectParity(ref, b.backend!, 'reduce', [x], out, { fn, axes }, label);
          });
        }
  });
}

describe('wasm reduce threads', () => {
  it('threads = 2 gives bit-identical results to threads = 1', async () => {
    const one = await createWasmBackend({ threads: 1 }), two = await createWasmBackend({ threads: 2 });
    try {
      const shape = [16, 32, 30, 30];
      const x = tensor(shape, 3);
      for (const axes of [[0, 2, 3], [3], [1]])
        expectIdentical(await runKernel(one, 'reduce', [x], shape.map((d, i) => (axes.includes(i) ? 1 : d)), { fn: 'sum', axes }),
          await runKernel(two, 'reduce', [x], shape.map((d, i) => (axes.includes(i) ? 1 : d)), { fn: 'sum', axes }), `${axes}`);
    } finally {
      one.dispose();
      two.dispose();
    }
  });
});
