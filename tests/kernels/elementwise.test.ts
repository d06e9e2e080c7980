import { afterAll, describe, expect, it } from 'vitest';
import type { BinaryFn, UnaryFn } from '../../src/backends/backend.js';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { backendsUnderTest, disposeAll } from '../helpers/backends.js';
import { runKernel, type HostTensor } from '../helpers/kernels.js';
import { expectIdentical, expectParity, others, reference, tensor } from './parity.js';

const list = await backendsUnderTest();
afterAll(() => disposeAll(list));
const ref = reference(list);

const unaryFns: UnaryFn[] = ['neg', 'exp', 'log', 'sigmoid', 'tanh', 'relu', 'softplus', 'square', 'sqrt', 'abs',
  'sign', 'step', 'reciprocal', 'affine'];
const binaryFns: BinaryFn[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'eq', 'gt'];
/** Input ranges that keep each function well inside float32 (log, sqrt and 1/x need x away from 0). */
const domain: Partial<Record<UnaryFn, [number, number]>> = { log: [0.1, 3], sqrt: [0.01, 4], reciprocal: [0.5, 2], exp: [-3, 3] };

/** b with some entries equal to a's, so 'eq' sees both outcomes; b away from 0 for 'div'. */
function second(a: HostTensor, shape: readonly number[], seed: number): HostTensor {
  const b = tensor(shape, seed, 0.5, 1.5);
  for (let i = 0; i < b.data.length; i += 3) b.data[i] = a.data[i % a.data.length]!;
  for (let i = 0; i < b.data.length; i += 2) b.data[i] = -b.data[i]!;
  for (let i = 0; i < b.data.length; i++) if (Math.abs(b.data[i]!) < 0.25) b.data[i] = 0.75;
  return b;
}

for (const b of others(list)) {
  describe(`elementwise on ${b.name}`, () => {
    for (const fn of unaryFns)
      for (const shape of [[2, 3, 5, 7], [1, 1, 1, 1], [1, 1, 3, 4]]) {
        it.skipIf(!b.backend)(`unary ${fn} ${shape.join('×')}`, async () => {
          const [lo, hi] = domain[fn] ?? [-4, 4];
          const x = tensor(shape, 7, lo, hi);
          await expectParity(ref, b.backend!, 'unary', [x], shape, { fn, alpha: 0.37, beta: -1.25 }, shape.join('×'));
        });
      }

    const pairs: Array<[number[], number[], number[]]> = [
      [[2, 3, 5, 7], [2, 3, 5, 7], [2, 3, 5, 7]],
      [[2, 3, 5, 7], [1, 3, 1, 7], [2, 3, 5, 7]],
      [[2, 3, 5, 7], [1, 1, 1, 1], [2, 3, 5, 7]],
      [[1, 1, 1, 1], [2, 3, 5, 6], [2, 3, 5, 6]],
      [[2, 1, 5, 1], [1, 3, 1, 7], [2, 3, 5, 7]],
      [[3, 4, 1, 1], [3, 4, 6, 9], [3, 4, 6, 9]],
    ];
    for (const fn of binaryFns)
      for (const [sa, sb, so] of pairs) {
        const label = `${sa.join('×')} ${fn} ${sb.join('×')}`;
        it.skipIf(!b.backend)(`binary ${label}`, async () => {
          const a = tensor(sa, 3, -2, 2);
          await expectParity(ref, b.backend!, 'binary', [a, second(a, sb, 4)], so, { fn }, label);
        });
      }

    for (const shape of [[2, 3, 5, 7], [1, 1, 1, 3]])
      it.skipIf(!b.backend)(`fill ${shape.join('×')}`, async () => {
        await expectParity(ref, b.backend!, 'fill', [], shape, { value: -2.5 }, shape.join('×'));
      });
  });
}

describe('wasm elementwise', () => {
  it('threads = 2 gives bit-identical results to threads = 1', async () => {
    const one = await createWasmBackend({ threads: 1 }), two = await createWasmBackend({ threads: 2 });
    try {
      const shape = [4, 16, 64, 65];
      const a = tensor(shape, 1), c = tensor([1, 16, 1, 65], 2);
      for (const fn of ['exp', 'affine', 'tanh'] as const)
        expectIdentical(await runKernel(one, 'unary', [a], shape, { fn, alpha: 2, beta: 1 }),
          await runKernel(two, 'unary', [a], shape, { fn, alpha: 2, beta: 1 }), fn);
      expectIdentical(await runKernel(one, 'binary', [a, c], shape, { fn: 'mul' }),
        await runKernel(two, 'binary', [a, c], shape, { fn: 'mul' }), 'binary');
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it('info() reports threads, and why a backend is single-threaded', async () => {
    const one = await createWasmBackend({ threads: 1 });
    const two = await createWasmBackend({ threads: 2 });
    const g = globalThis as { SharedArrayBuffer?: unknown };
    const saved = g.SharedArrayBuffer;
    delete g.SharedArrayBuffer;
    let noShared;
    try {
      noShared = await createWasmBackend({ threads: 2 });
    } finally {
      g.SharedArrayBuffer = saved;
    }
    try {
      expect(one.info().details).toMatchObject({ simd: true, threads: 1, sharedMemory: false, singleThreadReason: 'threads = 1 requested' });
      expect(two.info().details).toMatchObject({ simd: true, threads: 2, sharedMemory: true });
      expect(two.info().details.singleThreadReason).toBeUndefined();
      expect(noShared.info().details).toMatchObject({ threads: 1, sharedMemory: false });
      expect(String(noShared.info().details.singleThreadReason)).toMatch(/SharedArrayBuffer/);
      // The fallback still computes.
      const x = tensor([1, 1, 2, 3], 9);
      const y = await runKernel(noShared, 'unary', [x], x.shape, { fn: 'neg', alpha: 0, beta: 0 });
      expect(Array.from(y)).toEqual(Array.from(x.data, (v) => -v));
    } finally {
      one.dispose();
      two.dispose();
      noShared.dispose();
    }
  });

  for (const threads of [1, 2])
    it(`memory growth keeps earlier tensors intact (threads = ${threads})`, async () => {
      const be = await createWasmBackend({ threads });
      try {
        const before = (be.info().details.memoryBytes as number);
        const early = tensor([1, 1, 100, 1000], 5);
        const s = be.alloc(early.data.length);
        be.write(s, early.data);
        // 16 MiB more than the whole memory had: forces memory.grow after `s` was written.
        const big = be.alloc(4 * 1024 * 1024 + before / 4);
        expect(be.info().details.memoryBytes as number).toBeGreaterThan(before);
        be.write(big, new Float32Array(big.numel).fill(1));
        expectIdentical(be.readSync!(s), early.data, 'tensor written before growth');
        // A kernel on the old tensor writing into a block placed after the growth.
        const out = be.alloc(early.data.length);
        be.kernels.unary([{ storage: s, shape: early.shape }], { storage: out, shape: early.shape }, { fn: 'neg', alpha: 0, beta: 0 });
        const neg = await be.read(out);
        expect(neg[12345]).toBe(-early.data[12345]!);
        expect(be.memory().buffers).toBe(3);
        for (const t of [s, big, out]) be.free(t);
        expect(be.memory()).toEqual({ buffers: 0, bytes: 0 });
      } finally {
        be.dispose();
      }
    });
});
