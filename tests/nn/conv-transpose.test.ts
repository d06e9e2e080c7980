import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { ConvTranspose2d } from '../../src/nn/conv-transpose2d.js';
import { SpectralNorm } from '../../src/nn/spectral-norm.js';
import { conv2d, mul, sum } from '../../src/ops/index.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

describe('ConvTranspose2d', () => {
  it('has PyTorch\'s output size and is the adjoint of the strided convolution with its weight', async () => {
    const up = new ConvTranspose2d(engine, 3, 5, 3, { stride: 2, padding: 1, outputPadding: 1, bias: false, rng: new Rng(1) });
    const y = engine.tensor(new Rng(2).uniforms(2 * 3 * 4 * 5, -1, 1), [2, 3, 4, 5]);
    const out = engine.scope(() => up.forward(y));
    // (4 − 1)·2 − 2 + 3 + 1 = 8, (5 − 1)·2 − 2 + 3 + 1 = 10
    expect(out.shape).toEqual([2, 5, 8, 10]);
    const x = engine.tensor(new Rng(3).uniforms(2 * 5 * 8 * 10, -1, 1), [2, 5, 8, 10]);
    // ⟨convT(y), x⟩ = ⟨y, conv(x)⟩ with the same weight read as [out = 3, in = 5, k, k].
    const lhs = await engine.scope(() => sum(mul(up.forward(y), x))).item();
    const rhs = await engine.scope(() => sum(mul(conv2d(x, up.weight.value, { stride: 2, pad: 1 }), y))).item();
    expect(lhs).toBeCloseTo(rhs, 10);
    expect(up.weight.shape).toEqual([3, 5, 3, 3]);
  });

  it('takes a bias and groups, refuses bad arguments in one line, and works under SpectralNorm', async () => {
    const up = new ConvTranspose2d(engine, 4, 6, [4, 4], { stride: 2, padding: 1, groups: 2, rng: new Rng(4) });
    expect(up.weight.shape).toEqual([4, 3, 4, 4]);
    const y = engine.tensor(new Rng(5).uniforms(1 * 4 * 3 * 3, -1, 1), [1, 4, 3, 3]);
    expect(engine.scope(() => up.forward(y)).shape).toEqual([1, 6, 6, 6]);
    expect(() => new ConvTranspose2d(engine, 4, 6, 3, { groups: 4 })).toThrow(/groups = 4 must divide inChannels 4 and outChannels 6/);
    const sn = new SpectralNorm(engine, new ConvTranspose2d(engine, 4, 6, 4, { stride: 2, padding: 1, rng: new Rng(6) }));
    const { value, grads } = engine.valueAndGrads(() => sum(sn.forward(y)), [sn.module.weight.value]);
    expect(Number.isFinite(await value.item())).toBe(true);
    expect(Array.from(await grads[0]!.data64()).some((g) => g !== 0)).toBe(true);
  });
});
