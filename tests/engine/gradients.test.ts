import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import * as ops from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { gradCheck, type GradInput } from '../helpers/gradcheck.js';
import { rng } from '../helpers/random.js';

// Every gradient rule against central finite differences, in float64 on the reference engine.
let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

const TOL = 1e-6;

/** Values in [lo, hi) with random sign when signed: keeps inputs away from kinks and poles. */
function away(n: number, seed: number, lo: number, hi: number, signed = true): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => (lo + (hi - lo) * r()) * (signed && r() < 0.5 ? -1 : 1));
}

async function expectGrad(f: (xs: Tensor[]) => Tensor, inputs: GradInput[], seed = 7): Promise<void> {
  const { maxError, where } = await gradCheck(engine, f, inputs, seed);
  expect(maxError, where).toBeLessThan(TOL);
}

describe('unary gradients', () => {
  const s = [2, 3, 2];
  it.each([
    ['neg', ops.neg, undefined],
    ['exp', ops.exp, undefined],
    ['log', ops.log, away(12, 1, 0.2, 2, false)],
    ['sigmoid', ops.sigmoid, undefined],
    ['tanh', ops.tanh, undefined],
    ['relu', ops.relu, away(12, 2, 0.1, 1)],
    ['softplus', ops.softplus, undefined],
    ['square', ops.square, undefined],
    ['sqrt', ops.sqrt, away(12, 3, 0.2, 2, false)],
    ['abs', ops.abs, away(12, 4, 0.1, 1)],
    ['reciprocal', ops.reciprocal, away(12, 5, 0.3, 2)],
  ] as const)('%s', async (_name, f, data) => {
    await expectGrad(([x]) => f(x!), [{ shape: s, ...(data ? { data } : {}) }]);
  });
  it('affine (scalar ops)', async () => {
    await expectGrad(([x]) => ops.affine(x!, -1.5, 0.25), [{ shape: s }]);
    await expectGrad(([x]) => ops.div(ops.sub(ops.mul(ops.add(x!, 2), 3), 1), 4), [{ shape: s }]);
  });
});

describe('binary gradients with broadcasting', () => {
  const cases: Array<[string, readonly number[], readonly number[]]> = [
    ['same', [2, 3, 4], [2, 3, 4]],
    ['row', [2, 3, 4], [4]],
    ['channel NCHW', [2, 3, 2, 2], [1, 3, 1, 1]],
    ['both broadcast', [2, 1, 3], [1, 4, 1]],
    ['scalar', [3, 2], []],
  ];
  it.each(cases)('add/sub/mul/div %s', async (_n, a, b) => {
    const bData = away(b.reduce((x, y) => x * y, 1), 9, 0.5, 2);
    for (const f of [ops.add, ops.sub, ops.mul, ops.div])
      await expectGrad(([x, y]) => f(x!, y!), [{ shape: a }, { shape: b, data: bData }]);
  });
  it('maximum / minimum', async () => {
    const a = away(24, 11, 0, 1), b = a.map((v, i) => v + (i % 2 ? 0.3 : -0.3));
    await expectGrad(([x, y]) => ops.maximum(x!, y!), [{ shape: [2, 3, 4], data: a }, { shape: [2, 3, 4], data: b }]);
    await expectGrad(([x, y]) => ops.minimum(x!, y!), [{ shape: [2, 3, 4], data: a }, { shape: [2, 3, 4], data: b }]);
  });
});

describe('reduction gradients', () => {
  it.each([[undefined], [[0]], [[1, 3]], [[0, 2, 3]], [[-1]]] as const)('sum/mean/sumSquares over %j', async (axes) => {
    for (const f of [ops.sum, ops.mean, ops.sumSquares])
      await expectGrad(([x]) => f(x!, axes as number[] | undefined, true), [{ shape: [2, 3, 2, 3] }]);
  });
  it('max (distinct values)', async () => {
    const data = Float64Array.from({ length: 36 }, (_, i) => Math.sin(i * 1.7) + i * 0.01);
    await expectGrad(([x]) => ops.max(x!, [1, 2]), [{ shape: [2, 3, 2, 3], data }]);
  });
});

describe('convolution gradients', () => {
  it.each([
    ['3x3 same + bias', [2, 3, 4, 5], [4, 3, 3, 3], { pad: 'same' as const }, true],
    ['2x2 valid', [1, 2, 5, 4], [3, 2, 2, 2], { pad: 'valid' as const }, false],
    ['corner tr, k=3', [1, 2, 4, 4], [2, 2, 3, 3], { pad: 'tr' as const }, false],
    ['groups 2, asymmetric pad', [2, 4, 3, 4], [6, 2, 3, 2], { pad: [1, 0, 2, 1] as const, groups: 2 }, true],
    ['1x1', [2, 5, 3, 3], [4, 5, 1, 1], {}, true],
  ] as const)('conv2d %s', async (_n, xs, ws, opts, bias) => {
    const inputs: GradInput[] = [{ shape: xs }, { shape: ws }];
    if (bias) inputs.push({ shape: [ws[0]] });
    await expectGrad(([x, w, b]) => ops.conv2d(x!, w!, { ...opts, ...(b ? { bias: b } : {}) }), inputs);
  });
  it('conv2dGradInput and conv2dGradFilter are differentiable too', async () => {
    const pad = { left: 1, right: 0, top: 1, bottom: 1 };
    await expectGrad(([dy, w]) => ops.conv2dGradInput(dy!, w!, [2, 2, 4, 3], { pad, groups: 1 }),
      [{ shape: [2, 3, 4, 2] }, { shape: [3, 2, 3, 3] }]);
    await expectGrad(([x, dy]) => ops.conv2dGradFilter(x!, dy!, [3, 2, 3, 3], { pad, groups: 1 }),
      [{ shape: [2, 2, 4, 3] }, { shape: [2, 3, 4, 2] }]);
  });
});

describe('matmul gradients', () => {
  it.each([
    [false, false, [3, 4], [4, 2]],
    [true, false, [4, 3], [4, 2]],
    [false, true, [3, 4], [2, 4]],
    [true, true, [4, 3], [2, 4]],
    [false, false, [2, 3, 4], [2, 4, 2]],
    [false, false, [1, 3, 4], [3, 4, 2]],
    [true, false, [3, 4, 3], [1, 4, 2]],
  ] as const)('transposeA %s transposeB %s %j · %j', async (tA, tB, a, b) => {
    await expectGrad(([x, y]) => ops.matmul(x!, y!, { transposeA: tA, transposeB: tB }), [{ shape: a }, { shape: b }]);
  });
});

describe('layout gradients', () => {
  it('concat / slice / split / reshape', async () => {
    await expectGrad(([a, b]) => ops.concat([a!, b!, a!], 1), [{ shape: [2, 1, 2, 3] }, { shape: [2, 2, 2, 3] }]);
    await expectGrad(([a, b]) => ops.concat([a!, b!], 3), [{ shape: [1, 2, 2, 3] }, { shape: [1, 2, 2, 1] }]);
    await expectGrad(([x]) => ops.slice(x!, 1, 1, 2), [{ shape: [2, 4, 2, 2] }]);
    await expectGrad(([x]) => { const [p, q] = ops.split(x!, [1, 3], 1); return ops.mul(ops.reshape(p!, [2, 1, 4]), ops.reshape(ops.sum(q!, [1], true), [2, 1, 4])); },
      [{ shape: [2, 4, 2, 2] }]);
  });
  it('flip / squeeze / unsqueeze', async () => {
    await expectGrad(([x]) => ops.flip(x!, { h: true }), [{ shape: [1, 2, 3, 4] }]);
    await expectGrad(([x]) => ops.flip(x!, { h: true, w: true }), [{ shape: [2, 1, 3, 2] }]);
    await expectGrad(([x]) => ops.squeeze(x!), [{ shape: [2, 2, 4, 2] }]);
    await expectGrad(([x]) => ops.unsqueeze(x!), [{ shape: [1, 8, 2, 3] }]);
  });
});

describe('triangular solve gradients (docs/inverse.md §6)', () => {
  /** A kernel whose diagonal stays away from zero, as invertible layers keep it. */
  const kernel = (C: number, Cg: number, k: number, seed: number): Float64Array => {
    const r = rng(seed);
    const K = Float64Array.from({ length: C * Cg * k * k }, () => 0.3 * (2 * r() - 1));
    for (let c = 0; c < C; c++) K[((c * Cg + (c % Cg)) * k + k - 1) * k + k - 1] = 1 + 0.5 * r();
    return K;
  };
  it.each([
    ['single channel k=3 unit', 1, 1, 3, [], true],
    ['C=3 k=3 non-unit diagonal', 3, 1, 3, [], false],
    ['C=2 k=2 unit, tr', 2, 1, 2, ['tr'], true],
    ['4 FInC groups k=3', 4, 4, 3, ['tl', 'tr', 'bl', 'br'], true],
    ['2 groups of 2, k=2, non-unit', 4, 2, 2, ['br', 'bl'], false],
  ] as const)('solve %s', async (_n, C, groups, k, corners, unitDiag) => {
    const Cg = C / groups;
    const opts = { groups, unitDiag, ...(corners.length ? { corners } : {}) };
    const inputs = [{ shape: [2, C, 3, 4] }, { shape: [C, Cg, k, k], data: kernel(C, Cg, k, 3) }];
    await expectGrad(([y, K]) => ops.solve(y!, K!, opts), inputs);
    await expectGrad(([g, K]) => ops.solveTranspose(g!, K!, opts), inputs);
  });
});
