import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src/data/rng.js';
import { createEngine } from '../../../src/engine/dispatcher.js';
import type { Engine } from '../../../src/engine/engine.js';
import type { Tensor } from '../../../src/engine/tensor.js';
import { DiscriminatorBlock, GeneratorBlock } from '../../../src/models/gan/blocks.js';
import { ConditionalBatchNorm2d } from '../../../src/models/gan/conditional-batch-norm.js';
import { checkGanConfig, generatorStateShapes, ganPreset, type GanConfig } from '../../../src/models/gan/config.js';
import { ProjectionDiscriminator } from '../../../src/models/gan/discriminator.js';
import { ConditionalGenerator } from '../../../src/models/gan/generator.js';
import { crammerSingerLoss, hingeDiscriminatorLoss, hingeGeneratorLoss, multiHingeDiscriminatorLoss, multiHingeGeneratorLoss } from '../../../src/models/gan/losses.js';
import { truncatedNormals } from '../../../src/models/gan/truncation.js';
import { Linear } from '../../../src/nn/linear.js';
import type { Module } from '../../../src/nn/module.js';
import { SpectralNorm } from '../../../src/nn/spectral-norm.js';
import { gradCheck } from '../../helpers/gradcheck.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

const value = async (t: Tensor): Promise<number[]> => { const v = Array.from(await t.data64()); t.dispose(); return v; };

/** Spectral-norm layers reuse their u, v in eval mode: a fixed function of W, as finite differences need. */
const freezeSpectralNorms = (m: Module) => { for (const s of m.modules()) if (s instanceof SpectralNorm) s.training = false; };

describe('spectral norm on a random matrix', () => {
  it("σ estimate uᵀWv converges to the largest singular value (float64 power iteration on WᵀW, 3000 steps)", async () => {
    const rows = 12, cols = 20, W = new Rng(3).normals(rows * cols, 1);
    // Reference: power iteration on WᵀW, in float64 here, independent of the module.
    let v = new Float64Array(cols).fill(1), sigma = 0;
    for (let it = 0; it < 3000; it++) {
      const Wv = Array.from({ length: rows }, (_, r) => v.reduce((s, vi, c) => s + W[r * cols + c]! * vi, 0));
      const next = Float64Array.from({ length: cols }, (_, c) => Wv.reduce((s, a, r) => s + W[r * cols + c]! * a, 0));
      const norm = Math.hypot(...next);
      sigma = Math.sqrt(norm);
      v = next.map((a) => a / norm);
    }
    const lin = new Linear(engine, rows, cols, { bias: false });
    lin.weight.value = engine.tensor(W, [rows, cols]);
    const sn = new SpectralNorm(engine, lin, { seed: 8 });
    const estimates: number[] = [];
    for (let i = 0; i < 60; i++) {
      const Wn = await value(engine.scope(() => sn.normalizedWeight()));
      estimates.push(W[0]! / Wn[0]!);
    }
    const errors = estimates.map((e) => Math.abs(e - sigma) / sigma);
    expect(errors[0]).toBeGreaterThan(1e-3); // a real start, not already converged
    expect(errors.at(-1)).toBeLessThan(1e-9);
    // uᵀWv with unit u, v never exceeds σ₁.
    for (const e of estimates) expect(e).toBeLessThanOrEqual(sigma * (1 + 1e-12));
    sn.dispose();
  });
});

describe('conditional BatchNorm', () => {
  it('normalises by batch statistics, then applies the class\'s (1 + γ) and β', async () => {
    const cbn = new ConditionalBatchNorm2d(engine, 2, 2);
    cbn.gain.weight.value = engine.tensor([0.5, -1, 2, 0], [2, 2]); // rows: class 0, class 1
    cbn.bias.weight.value = engine.tensor([1, 0, 0, -1], [2, 2]);
    // [N=2, C=2, 1, 2]: channel 0 holds 1, 3 | 5, 7 (mean 4, variance 5); channel 1 holds 0, 0 | 2, 2 (mean 1, variance 1).
    const x = engine.tensor([1, 3, 0, 0, 5, 7, 2, 2], [2, 2, 1, 2]);
    const cond = engine.tensor([1, 0, 0, 1], [2, 2]);
    const y = await value(engine.scope(() => cbn.forward(x, cond)));
    const a = 1 / Math.sqrt(5 + 1e-5), b = 1 / Math.sqrt(1 + 1e-5);
    const want = [
      1.5 * -3 * a + 1, 1.5 * -1 * a + 1, 0, 0, // class 0: gain (1.5, 0), bias (1, 0)
      3 * 1 * a, 3 * 3 * a, b - 1, b - 1, //      class 1: gain (3, 1), bias (0, −1)
    ];
    y.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 10));
    expect([...cbn.namedParams().keys()]).toEqual(['gain.weight', 'bias.weight']);
    cbn.dispose();
  });

  it('refuses a condition of the wrong width', () => {
    const cbn = new ConditionalBatchNorm2d(engine, 2, 3);
    expect(() => engine.scope(() => cbn.forward(engine.zeros([2, 2, 1, 1]), engine.zeros([2, 2])))).toThrow(/condition \[2, 2\] must be \[2, 3\]/);
    cbn.dispose();
  });
});

describe('GAN losses', () => {
  const scalar = async (t: Tensor) => (await value(t))[0]!;
  it('plain hinge: D = mean relu(1 − real) + mean relu(1 + fake), G = −mean fake', async () => {
    const real = engine.tensor([2, 0.5, -1], [3]), fake = engine.tensor([-2, 0, 0.5], [3]);
    expect(await scalar(engine.scope(() => hingeDiscriminatorLoss(real, fake)))).toBeCloseTo((0 + 0.5 + 2) / 3 + (0 + 1 + 1.5) / 3, 12);
    expect(await scalar(engine.scope(() => hingeGeneratorLoss(fake)))).toBeCloseTo(0.5, 12);
  });

  it('Crammer–Singer: mean relu(1 + max wrong − right); multi-hinge D sends fakes to the last class, G to their own', async () => {
    const logits = engine.tensor([2, 0.5, -1, 0, 3, 1, 0.2, 0.5, 0.1], [3, 3]);
    // rows: right 2 vs 0.5 → 0; right 1 vs 3 → 3; right 0.5 vs 0.2 → 0.7
    expect(await scalar(engine.scope(() => crammerSingerLoss(logits, [0, 2, 1])))).toBeCloseTo(3.7 / 3, 12);
    // As fakes (target: class 2 of 3): rows 1 + 2 − (−1) = 4; 1 + 3 − 1 = 3; 1 + 0.5 − 0.1 = 1.4.
    const real = engine.tensor([1, 0, -1, 0, 2, 0], [2, 3]);
    // Reals, labels 0 and 1: 1 + 0 − 1 = 0; 1 + 0 − 2 → 0.
    expect(await scalar(engine.scope(() => multiHingeDiscriminatorLoss(real, [0, 1], logits)))).toBeCloseTo(0 + 8.4 / 3, 12);
    expect(await scalar(engine.scope(() => multiHingeGeneratorLoss(logits, [1, 0, 0])))).toBeCloseTo(((1 + 2 - 0.5) + (1 + 3 - 0) + (1 + 0.5 - 0.2)) / 3, 12);
    expect(() => engine.scope(() => crammerSingerLoss(logits, [0, 3, 1]))).toThrow(/target 3 at position 1 is not a class 0…2/);
  });
});

describe('gradient checks (reference backend, float64, central differences)', () => {
  it('generator block: input and condition', async () => {
    const block = new GeneratorBlock(engine, 2, 3, 2, new Rng(4));
    block.norm1.gain.weight.value = engine.tensor(new Rng(5).normals(4, 0.5), [2, 2]);
    block.norm2.bias.weight.value = engine.tensor(new Rng(6).normals(6, 0.5), [2, 3]);
    freezeSpectralNorms(block);
    const r = await gradCheck(engine, ([x, c]) => block.forward(x!, c!), [{ shape: [3, 2, 2, 2] }, { shape: [3, 2] }]);
    expect(r.maxError, r.where).toBeLessThan(1e-6);
    block.dispose();
  });

  it('discriminator block: input and the (spectrally normalised) first conv weight', async () => {
    const block = new DiscriminatorBlock(engine, 2, 3, new Rng(7));
    freezeSpectralNorms(block);
    const slot = block.conv1.module.weight;
    const f = ([x, w]: Tensor[]) => {
      const old = slot.swap(w!);
      try { return block.forward(x!); } finally { slot.swap(old); }
    };
    const r = await gradCheck(engine, f, [{ shape: [2, 2, 4, 4] }, { shape: [...slot.shape] }]);
    expect(r.maxError, r.where).toBeLessThan(1e-6);
    block.dispose();
  });
});

describe('conditional GAN networks', () => {
  const tiny: GanConfig = { kind: 'conditional-gan', resolution: 8, imageChannels: 1, classes: 3, zDim: 4, ch: 2, gWidths: [2, 1], dWidths: [1, 2], sharedDim: 0, loss: 'multi-hinge' };

  it('the config implies exactly the generator\'s state (both conditions, both presets)', async () => {
    for (const c of [tiny, { ...tiny, sharedDim: 5 }, ganPreset(32, { classes: 4 }), ganPreset(64, { classes: 4, imageChannels: 1, ch: 4 })]) {
      const g = new ConditionalGenerator(engine, c);
      expect(new Map([...g.namedState()].map(([k, s]) => [k, [...s.shape]]))).toEqual(generatorStateShapes(c));
      g.dispose();
    }
  });

  it('shapes: G makes [N, C, R, R] in [−1, 1]; D gives K + 1 logits and each image\'s own-class score', async () => {
    const g = new ConditionalGenerator(engine, tiny), d = new ProjectionDiscriminator(engine, tiny);
    const z = engine.tensor(new Rng(1).normals(8, 1), [2, 4]);
    const img = engine.scope(() => g.forward(z, [0, 2])).keep();
    expect(img.shape).toEqual([2, 1, 8, 8]);
    expect((await img.data64()).every((v) => Math.abs(v) <= 1)).toBe(true);
    const out = engine.scope(() => { const o = d.forward(img, [2, 1]); return [o.logits, o.score]; });
    expect(out[0]!.shape).toEqual([2, 4]);
    const [logits, score] = [await value(out[0]!), await value(out[1]!)];
    expect(score[0]).toBeCloseTo(logits[2]!, 12);
    expect(score[1]).toBeCloseTo(logits[4 + 1]!, 12);
    expect(() => engine.scope(() => g.forward(z, [0, 3]))).toThrow(/label 3 at position 1 is not a class 0…2/);
    // With a shared class embedding the condition is the embedding's row: in eval mode (no batch
    // statistics coupling the rows) changing one image's class changes that image only.
    const shared = new ConditionalGenerator(engine, { ...tiny, sharedDim: 3 }).eval();
    for (const b of shared.blocks) b.norm1.gain.weight.value = engine.tensor(new Rng(2).normals(3 * b.inChannels, 1), [3, b.inChannels]);
    const [a, b] = [await value(engine.scope(() => shared.forward(z, [0, 0]))), await value(engine.scope(() => shared.forward(z, [0, 1])))];
    expect(a.slice(0, 64)).toEqual(b.slice(0, 64));
    expect(a.slice(64)).not.toEqual(b.slice(64));
    shared.dispose();
    for (const t of [z, img]) t.dispose();
    g.dispose();
    d.dispose();
  });

  it('config checks name the field', () => {
    const bad = (c: object) => { const r = checkGanConfig({ ...tiny, ...c }); return r.ok ? 'ok' : r.problem; };
    expect(bad({ resolution: 12 })).toMatch(/resolution.*power of 2/);
    expect(bad({ gWidths: [1, 1, 1] })).toMatch(/gWidths.*must list 2 multipliers/);
    expect(bad({ loss: 'wgan' })).toMatch(/loss.*'hinge' or 'multi-hinge'/);
  });

  it('truncated normals stay within the threshold and are seeded', () => {
    const z = truncatedNormals(new Rng(2), 5000, 0.5);
    expect(z.every((v) => Math.abs(v) <= 0.5)).toBe(true);
    expect(truncatedNormals(new Rng(2), 5000, 0.5)).toEqual(z);
    expect(() => truncatedNormals(new Rng(2), 3, 0)).toThrow(/truncation = 0 must be a number ≥ 0.01/);
  });
});
