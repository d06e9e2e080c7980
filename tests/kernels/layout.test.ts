import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import type { Engine } from '../../src/engine/engine.js';
import * as ops from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { enginesUnderTest, type EngineUnderTest } from '../helpers/engines.js';
import { runKernel } from '../helpers/kernels.js';
import { numel, randomArray } from '../helpers/random.js';
import { tolerance, worstMismatch } from '../helpers/tolerance.js';
import type { OpCase } from '../ops/case.js';
import { cases as concatCases } from '../ops/concat.cases.js';
import { cases as gatherCases } from '../ops/gather.cases.js';
import { cases as padCases } from '../ops/pad.cases.js';
import { cases as permuteCases } from '../ops/permute.cases.js';
import { cases as spaceToDepthCases } from '../ops/space-to-depth.cases.js';
import { expectIdentical, tensor } from './parity.js';

// Forward parity and float64 gradients of the layout ops are their cases (tests/ops/{permute,
// concat,space-to-depth,pad,gather}.cases.ts); here: the same cases' backward passes run on wasm
// and WebGPU (fill, concat of zeros, padGrad, gatherGrad at every rank), thread-count invariance,
// argument errors and the index rule.

describe('wasm layout threads', () => {
  it('threads = 2 gives bit-identical results to threads = 1', async () => {
    const one = await createWasmBackend({ threads: 1 }), two = await createWasmBackend({ threads: 2 });
    try {
      const shape = [8, 16, 64, 64];
      const x = tensor(shape, 1);
      const indices = { shape: [8192], data: Float32Array.from({ length: 8192 }, (_, k) => (k * 37) % 100) };
      const rows = tensor([8192, 64], 2);
      const run = async (be: typeof one) => [
        await runKernel(be, 'flip', [x], shape, { h: true, w: true }),
        await runKernel(be, 'squeeze', [x], [8, 64, 32, 32], {}),
        await runKernel(be, 'unsqueeze', [x], [8, 4, 128, 128], {}),
        await runKernel(be, 'slice', [x], [8, 16, 64, 20], { axis: 3, start: 5 }),
        await runKernel(be, 'concat', [x, x], [8, 32, 64, 64], { axis: 1 }),
        await runKernel(be, 'permute', [x], [8, 64, 64, 16], { perm: [0, 2, 3, 1] }),
        await runKernel(be, 'permute', [x], [16, 8, 64, 64], { perm: [1, 0, 2, 3] }),
        await runKernel(be, 'pad', [x], [8, 16, 69, 67], { pads: [1, 2, 3, 2], mode: 'reflect', value: 0 }),
        await runKernel(be, 'padGrad', [x], [8, 16, 59, 61], { pads: [1, 2, 3, 2], mode: 'replicate' }),
        await runKernel(be, 'gather', [rows, indices], [1, 8192, 64], {}),
        await runKernel(be, 'gatherGrad', [{ shape: [1, 8192, 64], data: rows.data }, indices], [1, 100, 64], {}),
      ];
      const [a, r] = [await run(one), await run(two)];
      a.forEach((v, i) => expectIdentical(v, r[i]!, `case ${i}`));
    } finally {
      one.dispose();
      two.dispose();
    }
  });
});

const layoutCases = Object.entries({ permute: permuteCases, concat: concatCases, 'space-to-depth': spaceToDepthCases, pad: padCases, gather: gatherCases })
  .flatMap(([op, list]) => list.filter((c) => c.grad !== false).map((c) => ({ op, c })));

describe('layout backward passes on every backend', () => {
  let list: EngineUnderTest[] = [];
  beforeAll(async () => { list = await enginesUnderTest(); });
  afterAll(() => { for (const e of list) e.engine?.dispose(); });

  /** Gradients of Σ run(xs) ⊙ w with respect to the case's checked inputs, as the engine computes them. */
  async function grads(engine: Engine, c: OpCase): Promise<Float32Array[]> {
    const xs = c.inputs.map((inp, i) => engine.tensor(inp.data ? Float32Array.from(inp.data) : randomArray(numel(inp.shape), 101 + i), inp.shape));
    const checked = Array.isArray(c.grad) ? c.grad.map((i) => xs[i]!) : xs;
    const out = engine.scope(() => {
      const shape = c.run(xs).shape;
      const w = engine.tensor(randomArray(numel(shape), 7), shape);
      const { value, grads: g } = engine.valueAndGrads(() => ops.sum(ops.mul(c.run(xs), w)), checked);
      value.dispose();
      return g;
    });
    const data = await Promise.all(out.map((g: Tensor) => g.data()));
    for (const t of [...out, ...xs]) t.dispose();
    return data;
  }

  describe.each(layoutCases)('$op: $c.name', ({ c }) => {
    it.for(['wasm', 'webgpu'] as const)('%s gradients agree with the reference', async (name, ctx) => {
      const e = list.find((x) => x.name === name)!;
      if (!e.engine) return ctx.skip(e.skipReason);
      const want = await grads(list.find((x) => x.name === 'reference')!.engine!, c);
      const got = await grads(e.engine, c);
      got.forEach((g, i) => expect(worstMismatch(g, want[i]!, tolerance[name]), `input ${i}`).toBeNull());
    });
  });
});

describe('layout op arguments', () => {
  let list: EngineUnderTest[] = [];
  beforeAll(async () => { list = await enginesUnderTest(); });
  afterAll(() => { for (const e of list) e.engine?.dispose(); });
  const engineOf = (name: string): Engine | null => list.find((e) => e.name === name)!.engine;

  it('bad permutations, pads and ranks fail naming the op', () => {
    const e = engineOf('reference')!;
    const t = (shape: number[]) => e.zeros(shape);
    expect(() => ops.permute(t([2, 3, 4]), [0, 1])).toThrow(/^permute: perm \[0,1\] must list each of the 3 axes of \[2, 3, 4\] once$/);
    expect(() => ops.permute(t([2, 3, 4]), [0, 2, 0])).toThrow(/^permute: perm \[0, 2, 0\] repeats an axis of \[2, 3, 4\]$/);
    expect(() => ops.permute(t([2, 3]), [0, 5])).toThrow(/^permute: axis 5 is out of range for rank 2$/);
    expect(() => ops.transpose(t([4]))).toThrow(/^transpose: axis -2 is out of range for rank 1$/);
    expect(() => ops.reshape(t([2, 3]), [1, 1, 1, 1, 1, 2, 3])).toThrow(/^reshape: rank 7 shape \[1, 1, 1, 1, 1, 2, 3\]: tensors have rank 0 to 6$/);
    expect(() => ops.pad(t([1, 2, 3, 4]), [1, 1, 1] as never)).toThrow(/^pad: pads \[1,1,1\] must be 4 non-negative integers \[left, right, top, bottom\]$/);
    expect(() => ops.pad(t([1, 2, 3, 4]), [1, -1, 0, 0])).toThrow(/^pad: pads/);
    expect(() => ops.pad(t([1, 2, 3, 4]), [1, 1, 1, 1], 'wrap' as never)).toThrow(/^pad: unknown mode 'wrap'/);
    expect(() => ops.pad(t([1, 2, 3, 4]), [1, 1, 3, 0], 'reflect')).toThrow(/^pad: reflect pads \[1, 1, 3, 0\] must each be smaller than the dimension they pad \(H 3, W 4 of \[1, 2, 3, 4\]\)$/);
    expect(() => ops.pad(t([1, 2, 3, 4]), [1, 1, 1, 1], 'replicate', 2)).toThrow(/^pad: value 2 is only used by mode 'constant'/);
    expect(() => ops.pad(t([2, 3, 4]), [1, 1, 1, 1])).toThrow(/^pad: input must be rank 4 \[N, C, H, W\], got \[2, 3, 4\]$/);
    expect(() => ops.concat([t([1, 2, 3, 3, 1]), t([1, 2, 4, 3, 1])], 4)).toThrow(/^concat: shapes \[1, 2, 3, 3, 1\], \[1, 2, 4, 3, 1\] differ outside axis 4$/);
    expect(() => ops.slice(t([2, 3, 4, 5, 6, 7]), 5, 4, 4)).toThrow(/^slice: range \[4, 8\) is outside axis 5 of \[2, 3, 4, 5, 6, 7\]$/);
    expect(() => ops.gather(t([4, 3]), 2 as never)).toThrow(/^gather: indices must be a tensor$/);
  });

  it.for(['reference', 'wasm'] as const)('%s refuses indices that are not integers in range', (name) => {
    const e = engineOf(name)!;
    const table = e.zeros([7, 3]);
    expect(() => ops.gather(table, e.tensor([1, 7, 2]))).toThrow(/^gather: index 7 at position 1 of indices \[3\] is not an integer in \[0, 7\)$/);
    expect(() => ops.gather(table, e.tensor([1.5]))).toThrow(/^gather: index 1.5 at position 0 of indices \[1\]/);
    expect(() => ops.gather(table, 1, e.tensor([-1]))).toThrow(/^gather: index -1 at position 0 of indices \[1\] is not an integer in \[0, 3\)$/);
  });

  it('webgpu: an invalid index selects nothing (a zero row, no gradient)', async (ctx) => {
    const e = engineOf('webgpu');
    if (!e) return ctx.skip('no WebGPU adapter');
    const table = e.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
    const idx = e.tensor([2, 3, -1, 0.5, 0]);
    const y = ops.gather(table, idx);
    expect(Array.from(await y.data())).toEqual([5, 6, 0, 0, 0, 0, 0, 0, 1, 2]);
    const dx = ops.gatherGrad(e.ones([5, 2]), idx, [3, 2], 0);
    expect(Array.from(await dx.data())).toEqual([1, 1, 0, 0, 1, 1]);
    for (const t of [table, idx, y, dx]) t.dispose();
  });
});
