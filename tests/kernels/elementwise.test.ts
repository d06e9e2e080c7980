import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { compileWasm } from '../../bindings/wasm-loader.js';
import { binaryFns } from '../../src/ops/binary.js';
import { unaryFns } from '../../src/ops/unary.js';
import { runKernel } from '../helpers/kernels.js';
import { expectIdentical, tensor } from './parity.js';

// The wasm side of the elementwise kernels beyond parity (tests/ops/{unary,binary,where,fill}.cases.ts
// hold that): function codes, thread-count invariance, the single-thread fallback and memory growth.

describe('elementwise function codes', () => {
  it('AssemblyScript reads the codes the op files declare (assembly/generated/*.ts)', () => {
    for (const [op, name, fns] of [['unary', 'Unary', unaryFns], ['binary', 'Binary', binaryFns]] as const) {
      const text = readFileSync(join(import.meta.dirname, '..', '..', 'assembly', 'generated', `${op}.ts`), 'utf8');
      const declared = [...text.matchAll(new RegExp(`export const ${name}_(\\w+): i32 = (\\d+);`, 'g'))].map((m) => [m[1], +m[2]!]);
      expect(declared).toEqual(fns.map((f, i) => [f, i]));
    }
  });

  it('an unknown code traps instead of computing another function', async () => {
    const { exports } = await WebAssembly.instantiate(await compileWasm('single'), {});
    const memory = exports.memory as WebAssembly.Memory;
    const base = (((exports.heapBase as () => number)() + 15) & ~15) + 4096;
    if (memory.buffer.byteLength < base + 4096) memory.grow(1);
    const x = base, y = base + 1024;
    new Float32Array(memory.buffer, x, 8).set([1, 2, 3, 4, 5, 6, 7, 8]);
    const unary = exports.unary as (...args: number[]) => void;
    const binary = exports.binary as (...args: number[]) => void;
    // Six collapsed dims of one 8-element row, both inputs contiguous.
    const layout = [1, 1, 1, 1, 1, 8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1];
    // A known code on the same arguments runs: the trap below is the code's doing.
    unary(unaryFns.indexOf('neg'), x, y, 8, 0, 0, 0, 1);
    expect(Array.from(new Float32Array(memory.buffer, y, 8))).toEqual([-1, -2, -3, -4, -5, -6, -7, -8]);
    for (const code of [999, unaryFns.length, -1])
      expect(() => unary(code, x, y, 8, 0, 0, 0, 1), `unary code ${code}`).toThrow(WebAssembly.RuntimeError);
    expect(() => unary(999, x, y, 8, 0, 0, 0, 1)).toThrow(/unreachable/);
    binary(binaryFns.indexOf('add'), x, x, y, ...layout, 0, 1);
    expect(new Float32Array(memory.buffer, y, 8)[7]).toBe(16);
    for (const code of [999, binaryFns.length])
      expect(() => binary(code, x, x, y, ...layout, 0, 1), `binary code ${code}`).toThrow(WebAssembly.RuntimeError);
  });
});

describe('wasm elementwise', () => {
  it('threads = 2 gives bit-identical results to threads = 1', async () => {
    const one = await createWasmBackend({ threads: 1 }), two = await createWasmBackend({ threads: 2 });
    try {
      const shape = [4, 16, 64, 65];
      const a = tensor(shape, 1, -6, 6), c = tensor([1, 16, 1, 65], 2), m = tensor([4, 1, 64, 65], 4);
      for (const fn of ['exp', 'affine', 'tanh', 'gelu', 'softplus', 'seluGrad'] as const)
        expectIdentical(await runKernel(one, 'unary', [a], shape, { fn, alpha: 2, beta: 1 }),
          await runKernel(two, 'unary', [a], shape, { fn, alpha: 2, beta: 1 }), fn);
      expectIdentical(await runKernel(one, 'binary', [a, c], shape, { fn: 'mul' }),
        await runKernel(two, 'binary', [a, c], shape, { fn: 'mul' }), 'binary');
      expectIdentical(await runKernel(one, 'where', [m, a, c], shape, {}), await runKernel(two, 'where', [m, a, c], shape, {}), 'where');
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
        be.kernels.unary!([{ storage: s, shape: early.shape }], { storage: out, shape: early.shape }, { fn: 'neg', alpha: 0, beta: 0 });
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
