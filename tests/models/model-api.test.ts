import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { add, mean, sqrt, square } from '../../src/ops/index.js';
import { ActNorm, CIncConv, Rng, dequantize } from '../../src/layers/index.js';
import * as models from '../../src/models/index.js';
import { Optimizer } from '../../src/train/optimizer.js';
import { jacobianLogAbsDet, maxAbsDiff, perturb } from '../layers/contract.js';
import { build } from './build.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

const pixels = (n: number, seed: number) => Float32Array.from(new Rng(seed).uniforms(n, 0, 256), Math.floor);

describe('model API (reference)', () => {
  it('logProb = preprocessing log-det + flow log-det + base, and bitsPerDim = −logProb/(D ln 2) (docs/flows.md §14)', async () => {
    const m = build('finc', 'tiny', engine);
    await perturb(m, 0.05, 1);
    const x = dequantize(engine.tensor(pixels(2 * 64, 1), [2, 1, 8, 8]), 3);
    const lp = await m.logProb(x).data64();
    const pre = m.preprocess.encode(x);
    const { z, logdet } = m.encode(pre.y);
    const zs = await Promise.all(z.map((t) => t.data64()));
    const ld = await add(pre.logdet, logdet).data64();
    for (let i = 0; i < 2; i++) {
      let logN = 0;
      for (const zi of zs) { const per = zi.length / 2; for (let j = 0; j < per; j++) logN += -0.5 * zi[i * per + j]! ** 2 - 0.5 * Math.log(2 * Math.PI); }
      expect(lp[i]).toBeCloseTo(ld[i]! + logN, 9);
    }
    const bpd = await m.bitsPerDim(x).data64();
    for (let i = 0; i < 2; i++) expect(bpd[i]).toBeCloseTo(-lp[i]! / (64 * Math.LN2), 10);
    m.dispose();
  });

  it('an identity-initialised model on uniform pixel noise gives a sane bits/dim', async () => {
    const m = build('finc', 'tiny', engine);
    const bpd = await m.bitsPerDim(dequantize(engine.tensor(pixels(8 * 64, 2), [8, 1, 8, 8]), 4)).data64();
    for (const b of bpd) expect(b).toBeGreaterThan(7.5);
    for (const b of bpd) expect(b).toBeLessThan(11);
    m.dispose();
  });

  it('ActNorm initialises from the first batch: zero mean, unit variance per channel', async () => {
    const a = new ActNorm(engine, { channels: 3 });
    const x = engine.tensor(Float32Array.from(new Rng(5).normals(4 * 3 * 25, 3), (v, i) => v + (i % 7)), [4, 3, 5, 5]);
    const { y } = a.encode(x);
    const mu = await mean(y, [0, 2, 3]).data64();
    const sd = await sqrt(mean(square(y), [0, 2, 3])).data64();
    for (const v of mu) expect(Math.abs(v)).toBeLessThan(1e-9);
    for (const v of sd) expect(Math.abs(v - 1)).toBeLessThan(1e-6);
    expect(a.initialized).toBe(true);
    a.dispose();
  });

  it('config → JSON → fromConfig + loadParameters rebuilds identical models (every kind)', async () => {
    for (const kind of ['finc', 'cinc', 'inverse', 'glow'] as const) {
      const m = build(kind, 'tiny', engine, 11);
      await perturb(m, 0.05, 2);
      const cfg = JSON.parse(JSON.stringify(m.config)) as models.FlowModelConfig;
      const m2 = models.fromConfig(engine, cfg);
      const weights = new Map<string, Float64Array>();
      for (const [k, t] of m.namedParameters()) weights.set(k, await t.data64());
      m2.loadParameters(weights);
      expect([...m2.namedParameters().keys()]).toEqual([...m.namedParameters().keys()]);
      const x = engine.tensor(Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i)), [2, 1, 8, 8]);
      const a = m.encode(x), b = m2.encode(x);
      for (let i = 0; i < a.z.length; i++) expect(maxAbsDiff(await a.z[i]!.data64(), await b.z[i]!.data64())).toBe(0);
      expect(maxAbsDiff(await a.logdet.data64(), await b.logdet.data64())).toBe(0);
      expect(() => m2.loadParameters(new Map([['nope', new Float32Array(1)]]))).toThrow(/unknown parameter 'nope'/);
    expect(() => m2.encode(engine.zeros([1, 3, 8, 8]))).toThrow(/input \[1, 3, 8, 8\] does not match the model's \[N, 1, 8, 8\]/);
      m.dispose();
      m2.dispose();
    }
  });

  it("Inverse-Flow's chained unit (TL → TR → BL → BR over all channels): exact inverse and log-det", async () => {
    const cfg = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 2, width: 8, inverseUnit: 'chained' as const };
    const m = models.inverseFlow(cfg, { engine });
    await perturb(m, 0.05, 6);
    expect(m.paramCount()).toBe(models.paramCount('inverse', cfg));
    expect(m.parameters().map((p) => p.name)).toContain('flow.levels.1.steps.0.invconv_br.weight');
    const x = Float64Array.from({ length: 64 }, (_, i) => Math.sin(0.8 * i));
    const r = m.encode(engine.tensor(x, [1, 1, 8, 8]));
    expect(maxAbsDiff(await m.decode(r.z).data64(), x)).toBeLessThan(1e-10);
    const want = await jacobianLogAbsDet(engine, (t) => m.encode(t).z, x, [1, 1, 8, 8]);
    expect(Math.abs((await r.logdet.data64())[0]! - want)).toBeLessThan(1e-6);
    m.dispose();
  });

  it('parameter names are unique dotted paths, the keys an optimizer uses', () => {
    const m = build('finc', 'tiny', engine);
    const names = m.parameters().map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('flow.levels.0.steps.1.finc.weight');
    expect(names).toContain('flow.levels.0.split.coupling.net.out.logs');
    m.dispose();
  });

  it('a CInC layer with a zero centre-diagonal entry is refused on decode, naming the layer', async () => {
    const m = build('cinc', 'tiny', engine);
    const { z } = m.encode(engine.tensor(Float32Array.from({ length: 64 }, (_, i) => Math.cos(i)), [1, 1, 8, 8]));
    expect(() => m.decode(z)).not.toThrow();
    const cinc = m.modules().filter((x): x is CIncConv => x instanceof CIncConv)[1]!;
    cinc.logDiag.value = engine.tensor([0, -1000, 0, 0], [4]);
    expect(() => m.decode(z)).toThrow(/CIncConv 'flow\.levels\.0\.steps\.1\.cinc'.*K\[1,1,2,2\] = 0 .*not invertible/);
    await expect(m.sample(1)).rejects.toThrow(/flow\.levels\.0\.steps\.1\.cinc/);
    // Below the tolerance counts as zero; a small but safe entry does not.
    cinc.logDiag.value = engine.tensor([0, Math.log(1e-9), 0, 0], [4]);
    expect(() => m.decode(z)).toThrow(/is zero or within/);
    cinc.logDiag.value = engine.tensor([0, Math.log(1e-3), 0, 0], [4]);
    expect(() => m.decode(z)).not.toThrow();
    m.dispose();
  });

  it('encode, decode, logProb and sample inside scopes leave no live tensors behind', async () => {
    const start = engine.memory().tensors;
    for (const kind of ['finc', 'cinc', 'inverse', 'glow'] as const) {
      const m = build(kind, 'tiny', engine);
      const x = engine.tensor(pixels(2 * 64, 8), [2, 1, 8, 8]);
      m.initialize(x);
      const before = engine.memory().tensors;
      engine.scope(() => { m.decode(m.encode(m.preprocess.encode(x).y).z); m.bitsPerDim(x); });
      const s = await m.sample(2, { seed: 1 });
      expect(engine.memory().tensors).toBe(before + 1);
      s.dispose();
      x.dispose();
      m.dispose();
    }
    // dispose() frees every parameter and constant mask a model made.
    expect(engine.memory().tensors).toBe(start);
  });

  it('sample: seeded, temperature-scaled, in pixel range', async () => {
    const m = build('glow', 'tiny', engine);
    await perturb(m, 0.05, 4);
    const a = await (await m.sample(3, { seed: 9 })).data64();
    const b = await (await m.sample(3, { seed: 9 })).data64();
    const c = await (await m.sample(3, { seed: 10 })).data64();
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1);
    for (const v of a) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(256); }
    const z0 = m.sampleLatents(64, { seed: 1, temperature: 0 });
    expect((await z0[0]!.data64()).every((v) => v === 0)).toBe(true);
    const zt = await m.sampleLatents(64, { seed: 1, temperature: 0.5 })[0]!.data64();
    const z1 = await m.sampleLatents(64, { seed: 1, temperature: 1 })[0]!.data64();
    expect(maxAbsDiff(zt.map((v) => 2 * v), z1)).toBeLessThan(1e-6);
    m.dispose();
  });

  it('a few Adam steps on a tiny model lower the bits/dim, and scopes leak nothing', async () => {
    const m = build('finc', 'tiny', engine);
    const x = dequantize(engine.tensor(pixels(8 * 64, 3).map((v, i) => (v + 40 * (i % 8)) % 256), [8, 1, 8, 8]), 5).keep();
    const opt = new Optimizer(engine);
    const loss = () => mean(m.bitsPerDim(x));
    m.initialize(x);
    const first = await engine.scope(() => loss()).data64();
    const before = engine.memory().tensors;
    for (let i = 0; i < 15; i++) {
      engine.scope(() => {
        const params = m.parameters();
        const { grads } = engine.valueAndGrads(loss, params.map((p) => p.value));
        opt.step(params, grads, 2e-3);
      });
    }
    const after = await engine.scope(() => loss()).data64();
    expect(after[0]!).toBeLessThan(first[0]! - 0.05);
    // Adam's moments (two per parameter) and the last loss are the only new live tensors.
    expect(engine.memory().tensors - before).toBe(2 * m.parameters().length + 1);
    opt.dispose();
    m.dispose();
    x.dispose();
  });
});
