import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialLabels, labelSchedule } from '../../src/active/experiment.js';
import { ActiveLearner } from '../../src/active/learner.js';
import { scoresFromConfusion } from '../../src/active/scores.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { SeedClassifier } from '../../src/models/seed-classifier/classifier.js';
import { defaultSeedClassifier, type SeedClassifierConfig } from '../../src/models/seed-classifier/config.js';

const config: SeedClassifierConfig = { ...defaultSeedClassifier, inputShape: [3, 8, 8], classes: 3, widths: [4, 4, 4], dropout: 0.5 };
let engine: Engine;

/** n random 8 × 8 images; label = which channel is brightest, so the task is learnable. */
function images(n: number, seed: number): ImageDataset & { labels: Int32Array } {
  const rng = new Rng(seed), px = 3 * 64, data = new Uint8Array(n * px), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.below(3);
    for (let j = 0; j < px; j++) data[i * px + j] = Math.floor(rng.uniform() * 80) + (Math.floor(j / 64) === labels[i] ? 150 : 0);
  }
  return { name: 'toy', images: data, labels, count: n, shape: [3, 8, 8] };
}

beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

describe('consistent MC dropout (SeedClassifier.mcPredict with a seed)', () => {
  it('one mask per pass for every image: copies agree, chunks agree, the same seed repeats', async () => {
    const model = new SeedClassifier(engine, config, 3);
    model.eval();
    const d = images(3, 1);
    const px = 3 * 64, vals = new Float32Array(4 * px);
    vals.set(d.images.subarray(0, px), 0); vals.set(d.images.subarray(0, px), px); vals.set(d.images.subarray(px, 3 * px), 2 * px);
    const x = engine.tensor(vals, [4, 3, 8, 8]);
    const a = await model.mcPredict(x, 4, { seed: 11 }), b = await model.mcPredict(x, 4, { seed: 11 });
    expect(a.probs).toEqual(b.probs);
    const row = (p: Float32Array, k: number, i: number, n = 4) => Array.from(p.subarray((k * n + i) * 3, (k * n + i + 1) * 3));
    const passes = new Set<string>();
    for (let k = 0; k < 4; k++) {
      expect(row(a.probs, k, 1)).toEqual(row(a.probs, k, 0));
      passes.add(row(a.probs, k, 0).join());
    }
    expect(passes.size).toBeGreaterThan(1);
    // The last image alone gets the rows it got in the batch.
    const alone = engine.tensor(vals.slice(3 * px), [1, 3, 8, 8]);
    const c = await model.mcPredict(alone, 4, { seed: 11 });
    for (let k = 0; k < 4; k++) row(c.probs, k, 0, 1).forEach((v, j) => expect(v).toBeCloseTo(row(a.probs, k, 3)[j]!, 6));
    // Per-image masks (no seed) treat the two copies as different networks.
    const free = await model.mcPredict(x, 4);
    expect([0, 1, 2, 3].some((k) => row(free.probs, k, 0).join() !== row(free.probs, k, 1).join())).toBe(true);
    await expect(model.mcPredict(x, 2, { seed: -1 })).rejects.toThrow(/seed = -1 must be an integer from 0/);
    x.dispose(); alone.dispose(); model.dispose();
  });
});

describe('ActiveLearner: acquire → labels in → retrain → accuracy out', () => {
  it('drives a session the way a page would', async () => {
    const pool = images(40, 2), test = images(30, 3);
    const learner = new ActiveLearner(engine, { ...pool, labels: null }, test, { classifier: config, retrain: { steps: 4, batch: 8 }, mcPasses: 3, seed: 5 });
    await expect(learner.acquire('bald', 2)).rejects.toThrow(/no classifier yet: call retrain\(\) after the first labels/);
    // Random needs no classifier: a cold start.
    const first = await learner.acquire('random', 6);
    expect(new Set(first.indices).size).toBe(6);
    expect(() => learner.addLabels(first.indices, [0, 1])).toThrow(/6 images but 2 labels/);
    expect(() => learner.addLabels([first.indices[0]!], [3])).toThrow(/label 3 of image \d+ must be a class 0…2/);
    expect(() => learner.addLabels([40], [0])).toThrow(/image 40 is not in the pool of 40/);
    learner.addLabels(first.indices, first.indices.map((i) => pool.labels[i]!));
    expect(() => learner.addLabels([first.indices[0]!], [0])).toThrow(/is already labelled/);
    await learner.retrain();
    const s = await learner.evaluate();
    expect(s.confusion.flat().reduce((a, b) => a + b, 0)).toBe(30);
    const next = await learner.acquire('batchbald', 5);
    expect(next.indices).toHaveLength(5);
    for (const i of next.indices) expect(first.indices).not.toContain(i);
    expect(next.scores!.length).toBe(5);
    // The same state acquires the same batch.
    expect((await learner.acquire('batchbald', 5)).indices).toEqual(next.indices);
    learner.addLabels(next.indices, next.indices.map((i) => pool.labels[i]!));
    expect(learner.labelledCount).toBe(11);
    expect(learner.unlabelled()).toHaveLength(29);
    await expect(learner.acquire('max-entropy', 30)).rejects.toThrow(/batch = 30 is more than the 29 unlabelled images of the pool/);
    learner.dispose();
  });
});

describe('experiment helpers', () => {
  it('initialLabels is balanced while every class has images left', () => {
    const labels = Int32Array.from([0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2]);
    const idx = initialLabels(labels, 3, 7, 1);
    expect(new Set(idx).size).toBe(7);
    const per = [0, 1, 2].map((k) => idx.filter((i) => labels[i] === k).length);
    expect(per).toEqual([3, 2, 2]);
    expect(initialLabels(labels, 3, 7, 1)).toEqual(idx);
    expect(() => initialLabels(labels, 3, 12, 1)).toThrow(/initial = 12 is more than the 11 images/);
  });

  it('labelSchedule splits budgets into batches', () => {
    expect(labelSchedule(20, [40, 60])).toEqual([40, 60]);
    expect(labelSchedule(20, [40, 45], 10)).toEqual([30, 40, 45]);
    expect(() => labelSchedule(20, [20])).toThrow(/budget 20 must be an integer above 20/);
  });

  it('accuracy and macro-F1 from a confusion matrix', () => {
    // Class 0: recall 8/10, precision 8/9; class 1: recall 9/10, precision 9/11.
    const s = scoresFromConfusion([[8, 2], [1, 9]]);
    expect(s.accuracy).toBeCloseTo(17 / 20, 12);
    const f1 = (p: number, r: number) => (2 * p * r) / (p + r);
    expect(s.macroF1).toBeCloseTo((f1(8 / 9, 0.8) + f1(9 / 11, 0.9)) / 2, 12);
    expect(s.recall).toEqual([0.8, 0.9]);
    // A class never predicted has F1 0.
    expect(scoresFromConfusion([[5, 0], [5, 0]]).macroF1).toBeCloseTo(f1(0.5, 1) / 2, 12);
  });
});
