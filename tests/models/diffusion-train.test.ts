import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { Ema } from '../../src/train/ema.js';
import { defaultLoopOptions, runTraining, type LoopOptions } from '../../src/train/loop.js';
import { diffusionImageData, DiffusionTask, WarmEma } from '../../src/train/tasks/diffusion.js';
import { tinyConfig } from './diffusion-fixtures.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

/** 48 8×8 images (0…255) of a bright 4×4 square in the top-left (class 0), top-right (1) or bottom half (2) corner. */
const squares = (() => {
  const rng = new Rng(5), count = 48;
  const images = new Uint8Array(count * 64), labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const y = n % 3;
    labels[n] = y;
    const top = y === 2 ? 4 : rng.below(2), left = y === 1 ? 4 : y === 0 ? rng.below(2) : rng.below(5);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) images[n * 64 + (top + i) * 8 + left + j] = 255;
  }
  return { name: 'squares', images, labels, count, shape: [1, 8, 8] as [number, number, number] };
})();

const opts = (o: Partial<LoopOptions>): LoopOptions => ({ ...defaultLoopOptions, epochs: 50, batch: 8, lr: 2e-3, warmupSteps: 5, clip: 1, seed: 3, ...o });

describe('class-conditional DiffusionTask (label dropout for classifier-free guidance)', () => {
  it('the ε-loss falls over 60 steps on a tiny labelled problem, and the EMA follows', async () => {
    const model = new DiffusionModel(engine, tinyConfig(100), { seed: 1 });
    const ema = new Ema(model.unet, 0.9);
    const task = new DiffusionTask(model.unet, model.schedule, { ema, conditioning: { labels: squares.labels, classes: 3 } });
    const losses: number[] = [];
    await runTraining(task, diffusionImageData(squares), opts({ maxSteps: 60 }), { onStep: (m) => losses.push(m.loss) });
    const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(avg(losses.slice(-10)), losses.map((l) => l.toFixed(2)).join(' ')).toBeLessThan(0.7 * avg(losses.slice(0, 10)));
    expect(ema.updates).toBe(60);
    task.dispose();
    ema.dispose();
    model.dispose();
  }, 300_000);

  it('replaces the label by the "no label" index at the dropout rate, drawn from the run\'s RNG', async () => {
    const seen = async (labelDropout: number) => {
      const model = new DiffusionModel(engine, tinyConfig(100), { seed: 1 });
      const labels: number[] = [];
      const forward = model.unet.forward.bind(model.unet);
      model.unet.forward = (x: Tensor, t: ArrayLike<number>, y?: ArrayLike<number>) => {
        labels.push(...Array.from(y!));
        return forward(x, t, y);
      };
      const task = new DiffusionTask(model.unet, model.schedule, { conditioning: { labels: squares.labels, classes: 3, labelDropout } });
      await runTraining(task, diffusionImageData(squares), opts({ maxSteps: 12 }));
      task.dispose();
      model.dispose();
      return labels;
    };
    const none = await seen(0), half = await seen(0.5), all = await seen(1);
    expect(none).toHaveLength(96);
    expect(none.every((y) => y < 3)).toBe(true);
    expect(all.every((y) => y === 3)).toBe(true);
    const dropped = half.filter((y) => y === 3).length;
    expect(dropped).toBeGreaterThan(30);
    expect(dropped).toBeLessThan(66);
    const model = new DiffusionModel(engine, tinyConfig(100));
    expect(() => new DiffusionTask(model.unet, model.schedule, { conditioning: { labels: [0, 5], classes: 3 } }))
      .toThrow(/label 5 of example 1 is not one of the 3 classes/);
    expect(() => new DiffusionTask(model.unet, model.schedule, { conditioning: { labels: [0], classes: 3, labelDropout: 2 } }))
      .toThrow(/labelDropout = 2 must be in \[0, 1\]/);
    model.dispose();
  }, 300_000);

  it('WarmEma: decay min(d, (1 + k)/(10 + k)) at update k, so the initial weights fade at once', async () => {
    const model = new DiffusionModel(engine, tinyConfig(100), { seed: 1 });
    const p = model.unet.outConv.bias!;
    const ema = new WarmEma(model.unet, 0.999);
    const avg = async () => (await ema.state()).get('out_conv.bias')!.data[0]!;
    const set = (v: number) => { p.value = engine.tensor(new Float32Array(p.size).fill(v), p.shape); };
    let want = 0;
    for (const [k, v] of [[0, 1], [1, 2], [2, -1]] as const) {
      set(v);
      ema.update();
      const d = Math.min(0.999, (1 + k) / (10 + k));
      want = d * want + (1 - d) * v;
      expect(await avg()).toBeCloseTo(want, 6);
    }
    // Past k ≈ 9 000 it is the plain EMA.
    ema.updates = 20_000;
    set(5);
    ema.update();
    expect(await avg()).toBeCloseTo(0.999 * want + 0.001 * 5, 6);
    ema.dispose();
    model.dispose();
  });

  it('diffusionImageData scales 0…255 to [−1, 1] and pads with −1 around the centre', () => {
    const d = diffusionImageData(squares, 12);
    expect(d.shape).toEqual([1, 12, 12]);
    const v = d.values([0]);
    expect(Math.min(...v)).toBe(-1);
    expect(Math.max(...v)).toBe(1);
    expect(v.filter((x) => x === 1)).toHaveLength(16);
    // Row 0 and 1 and columns 0, 1 are padding.
    for (let i = 0; i < 12; i++) expect([v[i], v[12 + i], v[i * 12], v[i * 12 + 1]]).toEqual([-1, -1, -1, -1]);
    expect(() => diffusionImageData(squares, 6)).toThrow(/size 6 is smaller than the 8×8 images/);
  });
});
