import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSplit } from '../../src/data/seeds/index.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { defaultSeedClassifier, SeedClassifier, type SeedClassifierConfig } from '../../src/models/seed-classifier/index.js';
import { defaultLoopOptions, runTraining } from '../../src/train/loop.js';
import { Optimizer } from '../../src/train/optimizer.js';
import { ClassifierTask, classifierAccuracy } from '../../src/train/tasks/classifier.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose?.());

const small = (over: Partial<SeedClassifierConfig>): SeedClassifierConfig => ({ ...defaultSeedClassifier, widths: [4, 8, 8], ...over });
const pixels = (n: number, [C, H, W]: readonly number[], seed = 1): Float32Array =>
  Float32Array.from({ length: n * C! * H! * W! }, (_, i) => ((i * 2654435761 + seed * 97) >>> 0) % 256);

describe('SeedClassifier', () => {
  it.each([
    ['basic', 32], ['basic', 64], ['resnet', 32], ['resnet', 64],
  ] as const)('%s at %i pixels square gives one probability row per image', async (arch, size) => {
    const config = small({ arch, inputShape: [3, size, size] });
    const m = new SeedClassifier(engine, config, 3).eval();
    const x = engine.tensor(pixels(2, config.inputShape), [2, ...config.inputShape]);
    const logits = m.logits(x);
    expect(logits.shape).toEqual([2, 4]);
    const rows = await m.predict(x);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    logits.dispose();
    x.dispose();
    m.dispose();
  });

  it.each(['basic', 'resnet'] as const)('%s: eval passes are identical, MC-dropout passes differ', async (arch) => {
    const config = small({ arch, dropout: 0.5 });
    const m = new SeedClassifier(engine, config, 4).eval();
    const x = engine.tensor(pixels(3, config.inputShape, 2), [3, ...config.inputShape]);
    const flat = (rows: Float32Array[]): number[] => rows.flatMap((r) => [...r]);
    const a = flat(await m.predict(x)), b = flat(await m.predict(x));
    expect(a).toEqual(b);
    const mc = await m.mcPredict(x, 4);
    expect(mc.probs.length).toBe(4 * 3 * 4);
    const pass = (t: number): number[] => [...mc.probs.subarray(t * 12, (t + 1) * 12)];
    expect(pass(0)).not.toEqual(pass(1));
    expect(pass(0)).not.toEqual(a);
    // The mean is the average of the passes, and still a distribution.
    for (let i = 0; i < 3; i++)
      for (let k = 0; k < 4; k++) {
        const avg = [0, 1, 2, 3].reduce((s, t) => s + mc.probs[t * 12 + i * 4 + k]!, 0) / 4;
        expect(mc.mean[i]![k]).toBeCloseTo(avg, 6);
      }
    expect(mc.mean[0]!.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    // With p = 0 an MC pass is the eval pass.
    const still = new SeedClassifier(engine, { ...config, dropout: 0 }, 4).eval();
    const s = await still.mcPredict(x, 2);
    expect([...s.probs.subarray(0, 12)]).toEqual([...s.probs.subarray(12, 24)]);
    x.dispose();
    m.dispose();
    still.dispose();
  });

  it('refuses a bad config or input in one line', () => {
    expect(() => new SeedClassifier(engine, small({ arch: 'vgg' as 'basic' }))).toThrow(/^SeedClassifier: config arch = "vgg" must be one of basic, resnet$/);
    expect(() => new SeedClassifier(engine, small({ inputShape: [3, 30, 30] }))).toThrow(/^SeedClassifier: config inputShape = \[3, 30, 30\] must have H and W divisible by 8/);
    expect(() => new SeedClassifier(engine, small({ dropout: 1 }))).toThrow(/^SeedClassifier: config dropout = 1 must be a number in \[0, 1\)$/);
    const m = new SeedClassifier(engine, small({}));
    const x = engine.tensor(new Float32Array(3 * 16 * 16), [1, 3, 16, 16]);
    expect(() => m.logits(x)).toThrow(/^SeedClassifier\.logits: input \[1, 3, 16, 16\] does not match the classifier's \[N, 3, 32, 32\]$/);
    x.dispose();
    m.dispose();
  });

  it('learns the procedural seeds well above chance in 80 steps', async () => {
    const { train, test } = seedSplit({ train: [40, 40, 40, 40], test: [15, 15, 15, 15], size: 32, seed: 9 });
    const model = new SeedClassifier(engine, small({ widths: [8, 16, 16], dropout: 0.2 }), 1);
    const optimizer = new Optimizer(engine);
    const task = new ClassifierTask(model, optimizer, null);
    const before = await classifierAccuracy(model, test);
    await runTraining(task, train, { ...defaultLoopOptions, epochs: 8, batch: 16, lr: 5e-3, warmupSteps: 5, clip: 0, seed: 2 });
    const after = await classifierAccuracy(model, test);
    console.log(`seed classifier held-out accuracy: ${(100 * before).toFixed(1)} % before, ${(100 * after).toFixed(1)} % after 80 steps (chance 25 %)`);
    expect(after).toBeGreaterThan(0.45);
    expect(after).toBeGreaterThan(before);
    optimizer.dispose();
    model.dispose();
  });
});
