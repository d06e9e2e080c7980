import { afterAll, describe, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { backendsUnderTest, disposeAll } from '../helpers/backends.js';
import { runKernel } from '../helpers/kernels.js';
import { expectIdentical, expectParity, others, reference, tensor } from './parity.js';

const list = await backendsUnderTest();
afterAll(() => disposeAll(list));
const ref = reference(list);

const base = [2, 3, 4, 5];

for (const b of others(list)) {
  describe(`layout on ${b.name}`, () => {
    for (let axis = 0; axis < 4; axis++) {
      it.skipIf(!b.backend)(`concat of 3 along axis ${axis}`, async () => {
        const sizes = [1, 3, 2];
        const inputs = sizes.map((n, i) => tensor(base.map((d, ax) => (ax === axis ? n : d)), 10 + i));
        const out = base.map((d, ax) => (ax === axis ? 6 : d));
        await expectParity(ref, b.backend!, 'concat', inputs, out, { axis }, `axis ${axis}`);
      });
      it.skipIf(!b.backend)(`slice along axis ${axis}`, async () => {
        const x = tensor(base.map((d, ax) => (ax === axis ? 7 : d)), 20);
        const out = base.map((d, ax) => (ax === axis ? 3 : d));
        await expectParity(ref, b.backend!, 'slice', [x], out, { axis, start: 2 }, `axis ${axis}`);
      });
    }
    for (const shape of [[2, 3, 4, 6], [1, 1, 2, 2], [3, 5, 8, 2]]) {
      const [N, C, H, W] = shape as [number, number, number, number];
      const sq = [N, 4 * C, H / 2, W / 2];
      it.skipIf(!b.backend)(`squeeze ${shape.join('×')}`, async () => {
        await expectParity(ref, b.backend!, 'squeeze', [tensor(shape, 40)], sq, {}, shape.join('×'));
      });
      it.skipIf(!b.backend)(`unsqueeze ${sq.join('×')}`, async () => {
        await expectParity(ref, b.backend!, 'unsqueeze', [tensor(sq, 41)], shape, {}, sq.join('×'));
      });
    }
  });
}

describe('wasm layout threads', () => {
  it('threads = 2 gives bit-identical results to threads = 1', async () => {
    const one = await createWasmBackend({ threads: 1 }), two = await createWasmBackend({ threads: 2 });
    try {
      const shape = [8, 16, 64, 64];
      const x = tensor(shape, 1);
      const run = async (be: typeof one) => [
        await runKernel(be, 'flip', [x], shape, { h: true, w: true }),
        await runKernel(be, 'squeeze', [x], [8, 64, 32, 32], {}),
        await runKernel(be, 'slice', [x], [8, 16, 64, 20], { axis: 3, start: 5 }),
      ];
      const [a, r] = [await run(one), await run(two)];
      a.forEach((v, i) => expectIdentical(v, r[i]!, `case ${i}`));
    } finally {
      one.dispose();
      two.dispose();
    }
  });
});
