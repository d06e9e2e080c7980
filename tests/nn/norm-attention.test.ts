import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { AttentionBlock } from '../../src/nn/attention.js';
import { BatchNorm2d } from '../../src/nn/batch-norm.js';
import { GroupNorm } from '../../src/nn/group-norm.js';
import { LayerNorm } from '../../src/nn/layer-norm.js';
import { Linear } from '../../src/nn/linear.js';
import { SpectralNorm } from '../../src/nn/spectral-norm.js';
import { sum } from '../../src/ops/index.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

const data = (n: number, seed: number, lo = -1, hi = 1) => new Rng(seed).uniforms(n, lo, hi);

describe('normalisation modules', () => {
  it('GroupNorm and LayerNorm normalise each group / row (mean 0, variance 1 with unit affine)', async () => {
    const x = engine.tensor(data(2 * 6 * 3 * 2, 1, -3, 5), [2, 6, 3, 2]);
    const gn = new GroupNorm(engine, 3, 6);
    const y = await engine.scope(() => gn.forward(x)).data64();
    for (let n = 0; n < 2; n++)
      for (let g = 0; g < 3; g++) {
        const vals = Array.from(y.subarray((n * 6 + 2 * g) * 6, (n * 6 + 2 * g + 2) * 6));
        const m = vals.reduce((a, b) => a + b) / vals.length;
        expect(m).toBeCloseTo(0, 10);
        expect(vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length).toBeCloseTo(1, 4);
      }
    const ln = new LayerNorm(engine, [3, 2]);
    expect([...ln.namedParams().keys()]).toEqual(['weight', 'bias']);
    const z = await engine.scope(() => ln.forward(x)).data64();
    const row = Array.from(z.subarray(0, 6));
    expect(row.reduce((a, b) => a + b) / 6).toBeCloseTo(0, 10);
  });

  it('BatchNorm2d tracks running statistics in training (unbiased variance, momentum) and uses them in eval', async () => {
    const bn = new BatchNorm2d(engine, 2, { momentum: 0.25 });
    const values = data(3 * 2 * 2 * 2, 2, 0, 4);
    const x = engine.tensor(values, [3, 2, 2, 2]);
    engine.scope(() => bn.forward(x));
    const mean = [0, 1].map((c) => {
      const v = [0, 1, 2].flatMap((n) => Array.from(values.subarray((n * 2 + c) * 4, (n * 2 + c + 1) * 4)));
      const m = v.reduce((a, b) => a + b) / v.length;
      return { m, unbiased: v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1) };
    });
    const rm = await bn.runningMean.value.data64(), rv = await bn.runningVar.value.data64();
    mean.forEach(({ m, unbiased }, c) => {
      expect(rm[c]).toBeCloseTo(0.25 * m, 6);
      expect(rv[c]).toBeCloseTo(0.75 + 0.25 * unbiased, 6);
    });
    expect([...(await bn.stateDict()).keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var']);
    expect(bn.parameters().length).toBe(2);
    bn.eval();
    const y = await engine.scope(() => bn.forward(x)).data64();
    expect(y[0]).toBeCloseTo((values[0]! - rm[0]!) / Math.sqrt(rv[0]! + 1e-5), 5);
    expect(await bn.runningMean.value.data64()).toEqual(rm);
  });
});

describe('SpectralNorm', () => {
  it('divides the weight by its largest singular value, found by power iteration', async () => {
    // W = U diag(3, 1.5, 0.5) Vᵀ through a known rotation: σ_max = 3.
    const c = Math.cos(0.3), s = Math.sin(0.3);
    const W = [3 * c, 3 * s, 0, -1.5 * s, 1.5 * c, 0, 0, 0, 0.5];
    const lin = new Linear(engine, 3, 3, { bias: false });
    lin.weight.value = engine.tensor(W, [3, 3]);
    const sn = new SpectralNorm(engine, lin, { seed: 4 });
    for (let i = 0; i < 30; i++) engine.scope(() => { sn.normalizedWeight(); });
    const Wn = await engine.scope(() => sn.normalizedWeight()).data64();
    Wn.forEach((v, i) => expect(v).toBeCloseTo(W[i]! / 3, 6));
    expect([...(await sn.stateDict()).keys()]).toEqual(['module.weight', 'u', 'v']);
    expect(sn.parameters().map((p) => p.name)).toEqual(['module.weight']);
  });

  it('passes gradients to the wrapped weight and leaves it in place after forward', async () => {
    const lin = new Linear(engine, 4, 2, { bias: false, rng: new Rng(5) });
    const sn = new SpectralNorm(engine, lin);
    const w0 = lin.weight.value;
    const x = engine.tensor(data(8, 6), [2, 4]);
    const { value, grads } = engine.valueAndGrads(() => sum(sn.forward(x)), [lin.weight.value]);
    expect(lin.weight.value).toBe(w0);
    expect(Array.from(await grads[0]!.data64()).some((g) => g !== 0)).toBe(true);
    value.dispose();
    grads[0]!.dispose();
  });
});

describe('AttentionBlock', () => {
  it('starts as the identity (zero projection), self and cross', async () => {
    const x = engine.tensor(data(2 * 4 * 3 * 3, 7), [2, 4, 3, 3]);
    const self = new AttentionBlock(engine, 4, { heads: 2, groups: 2 });
    expect(await engine.scope(() => self.forward(x)).data64()).toEqual(await x.data64());
    const cross = new AttentionBlock(engine, 4, { heads: 2, groups: 2, contextDim: 5 });
    const ctx = engine.tensor(data(2 * 7 * 5, 8), [2, 7, 5]);
    expect(await engine.scope(() => cross.forward(x, ctx)).data64()).toEqual(await x.data64());
    expect(() => engine.scope(() => cross.forward(x))).toThrow(/cross-attention needs a context/);
    expect(() => engine.scope(() => self.forward(x, ctx))).toThrow(/self-attention block/);
  });

  it('mixes information across pixels once the projection is trained', async () => {
    const x = engine.tensor(data(1 * 4 * 2 * 2, 9), [1, 4, 2, 2]);
    const block = new AttentionBlock(engine, 4, { heads: 1, groups: 1, rng: new Rng(10) });
    block.proj.weight.value = engine.tensor(data(16, 11), [4, 4, 1, 1]);
    const x2 = engine.tensor(await x.data64().then((v) => { const w = Float64Array.from(v); w[3] = w[3]! + 1; return w; }), [1, 4, 2, 2]);
    const [a, b] = await Promise.all([x, x2].map((t) => engine.scope(() => block.forward(t)).data64()));
    // Changing pixel 3 of channel 0 moves the other pixels' outputs too.
    expect(Math.abs(a![0]! - b![0]!)).toBeGreaterThan(1e-6);
  });
});
