import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/dispatcher.js';
import type { Engine } from '../../../src/engine/engine.js';
import type { Tensor } from '../../../src/engine/tensor.js';
import { frechetDistance } from '../../../src/models/frechet.js';
import { ConditionalGenerator } from '../../../src/models/gan/generator.js';
import { ganPreset } from '../../../src/models/gan/config.js';
import { judgeGan, realFeatureStats, type SampleJudge } from '../../../src/models/gan/judge.js';
import { sampleGan } from '../../../src/models/gan/sample.js';
import { SeedClassifier } from '../../../src/models/seed-classifier/classifier.js';
import { defaultSeedClassifier } from '../../../src/models/seed-classifier/config.js';
import { mean, reshape } from '../../../src/ops/index.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

const K = 3, SHAPE = [2, 4, 4] as const, PX = 32;

/** Image of class y: every pixel 0.8 (y − 1) plus a seeded ripple, so samples differ (and stay in [−1, 1]). */
function classImages(labels: number[], seed: number): Float32Array {
  const out = new Float32Array(labels.length * PX);
  labels.forEach((y, i) => { for (let j = 0; j < PX; j++) out[i * PX + j] = 0.8 * (y - 1) + 0.05 * Math.sin(seed * 7 + i * 3 + j); });
  return out;
}

/** Calls an image the class nearest its mean pixel; its features are the two channel means. */
function meanJudge(): SampleJudge {
  return {
    engine,
    config: { inputShape: [...SHAPE], classes: K, widths: [1, 1, 2] },
    async predict(px: Tensor) {
      const v = await px.data(), n = px.shape[0]!;
      return Array.from({ length: n }, (_, i) => {
        let s = 0;
        for (let j = 0; j < PX; j++) s += v[i * PX + j]!;
        const k = Math.max(0, Math.min(K - 1, Math.round((s / PX / 127.5))));
        return Float32Array.from({ length: K }, (_, c) => (c === k ? 1 : 0));
      });
    },
    features: (px: Tensor) => engine.scope(() => mean(reshape(px, [px.shape[0]!, 2, 16]), [2])),
  };
}

describe('judgeGan', () => {
  it('counts each sample as its class only when the classifier says so, per class and overall', async () => {
    // Class 2's draws come out as class 0: a generator that mixed up one class.
    const draw = (labels: number[], seed: number) => engine.tensor(classImages(labels.map((y) => (y === 2 ? 0 : y)), seed), [labels.length, ...SHAPE]);
    const r = await judgeGan(draw, meanJudge(), { classes: K, perClass: 5, batch: 4 });
    expect(r.confusion).toEqual([[5, 0, 0], [0, 5, 0], [5, 0, 0]]);
    expect(r.share).toEqual([1, 1, 0]);
    expect(r.overall).toBeCloseTo(2 / 3, 12);
    expect([r.features.n, r.features.dim, r.classFeatures[1]!.n]).toEqual([15, 2, 5]);
  });

  it('puts samples that are the real images at proxy-FID ≈ 0 from them, and wrong-class ones far away', async () => {
    const perClass = 6, labels = Array.from({ length: K * perClass }, (_, i) => i % K);
    // The real set is exactly what a perfect generator draws in one batch with seed 0.
    const pixels = classImages(labels, 0).map((v) => (v + 1) * 127.5);
    const real = { name: 'real', images: Uint8Array.from(pixels, Math.round), labels: Int32Array.from(labels), count: labels.length, shape: [...SHAPE] as [number, number, number] };
    const judge = meanJudge();
    const ref = await realFeatureStats(judge, real, K, 5);
    const perfect = await judgeGan((l, s) => engine.tensor(classImages(l, s), [l.length, ...SHAPE]), judge, { classes: K, perClass, batch: K * perClass });
    const shifted = await judgeGan((l, s) => engine.tensor(classImages(l.map((y) => (y + 1) % K), s), [l.length, ...SHAPE]), judge, { classes: K, perClass, batch: K * perClass });
    // Rounding to 8-bit pixels is the only difference.
    expect(frechetDistance(perfect.features, ref.features)).toBeLessThan(1);
    for (let k = 0; k < K; k++) expect(frechetDistance(perfect.classFeatures[k]!, ref.classFeatures[k]!)).toBeLessThan(1);
    // Shifting every class by one keeps the overall mix but moves each class by a whole level (102 per channel).
    expect(frechetDistance(shifted.classFeatures[0]!, ref.classFeatures[0]!)).toBeGreaterThan(2 * 100 ** 2);
    expect(shifted.overall).toBe(0);
  });

  it('runs a generator against a SeedClassifier: its features are the last stage averaged over positions', async () => {
    const G = new ConditionalGenerator(engine, ganPreset(32, { classes: 4, ch: 2, zDim: 4 }), 1);
    const clf = new SeedClassifier(engine, { ...defaultSeedClassifier, widths: [2, 3, 5] }, 2).eval();
    // Every batch's activations are freed: judging thousands of samples must not grow memory.
    const before = engine.memory().tensors;
    const r = await judgeGan((labels, seed) => sampleGan(G, { labels, seed }), clf, { classes: 4, perClass: 3, batch: 5 });
    expect(r.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([3, 3, 3, 3]);
    expect(engine.memory().tensors).toBe(before);
    expect(r.features.dim).toBe(5);
    expect(r.share.every((s, y) => s === r.confusion[y]![y]! / 3)).toBe(true);
    const other = new SeedClassifier(engine, { ...defaultSeedClassifier, classes: 3 }, 2);
    await expect(judgeGan((labels, seed) => sampleGan(G, { labels, seed }), other, { classes: 4, perClass: 2 })).rejects.toThrow(/classifier knows 3 classes, the generator 4/);
    G.dispose();
    clf.dispose();
    other.dispose();
  });
});
