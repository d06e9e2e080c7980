import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { noiseSchedule } from '../../src/models/diffusion/schedule.js';
import { UNet } from '../../src/models/unet/unet.js';
import type { UNetConfig } from '../../src/models/unet/config.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { Ema } from '../../src/train/ema.js';
import { checkpointPath, defaultLoopOptions, runTraining, type LoopOptions } from '../../src/train/loop.js';
import { DiffusionTask } from '../../src/train/tasks/diffusion.js';
import { tensorData } from '../../src/train/tensor-data.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

describe('noise schedules', () => {
  it('linear: β from 1e-4 to 0.02 at T = 1000, scaled for other T; ᾱ the running product', () => {
    const s = noiseSchedule('linear', 1000);
    expect(s.betas[0]).toBeCloseTo(1e-4, 12);
    expect(s.betas[999]).toBeCloseTo(0.02, 12);
    expect(s.alphaBars[1]).toBeCloseTo((1 - s.betas[0]!) * (1 - s.betas[1]!), 14);
    expect(s.alphaBars[999]).toBeLessThan(1e-4);
    const short = noiseSchedule('linear', 100);
    expect(short.betas[99]).toBeCloseTo(0.2, 12);
  });
  it('cosine: ᾱ_t = f(t + 1) / f(0), decreasing to ≈ 0, β capped at 0.999', () => {
    const s = noiseSchedule('cosine', 1000);
    const f = (t: number) => Math.cos(((t / 1000 + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    expect(s.alphaBars[499]).toBeCloseTo(f(500) / f(0), 10);
    for (let t = 1; t < 1000; t++) expect(s.alphaBars[t]!).toBeLessThan(s.alphaBars[t - 1]!);
    expect(Math.max(...s.betas)).toBeLessThanOrEqual(0.999);
    expect(() => noiseSchedule('cosine', 1)).toThrow(/steps = 1 must be an integer ≥ 2/);
  });
});

const tiny: Partial<UNetConfig> = { imageSize: 8, inChannels: 1, outChannels: 1, baseChannels: 8, channelMults: [1, 2], groups: 4, heads: 2, attentionResolutions: [4], resBlocks: 1 };

/** 32 images of a bright square at a random place on a dark background, in [−1, 1]. */
const squares = (() => {
  const rng = new Rng(5), v = new Float32Array(32 * 64).fill(-1);
  for (let n = 0; n < 32; n++) {
    const y = rng.below(5), x = rng.below(5);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) v[n * 64 + (y + i) * 8 + x + j] = 1;
  }
  return tensorData(v, [1, 8, 8]);
})();

describe('DiffusionTask (ε-prediction on the generic loop)', () => {
  const opts = (o: Partial<LoopOptions>): LoopOptions => ({ ...defaultLoopOptions, epochs: 20, batch: 8, lr: 2e-3, warmupSteps: 5, seed: 3, ...o });

  it('lowers the ε-loss of a small UNet and keeps an EMA', async () => {
    const unet = new UNet(engine, tiny, { seed: 1 });
    const ema = new Ema(unet, 0.9);
    const task = new DiffusionTask(unet, noiseSchedule('cosine', 200), { ema });
    const losses: number[] = [];
    await runTraining(task, squares, opts({ maxSteps: 60 }), { onStep: (m) => losses.push(m.loss) });
    const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(avg(losses.slice(-10)), losses.map((l) => l.toFixed(2)).join(' ')).toBeLessThan(0.8 * avg(losses.slice(0, 10)));
    expect(ema.updates).toBe(60);
    task.dispose();
    ema.dispose();
    unet.dispose();
  }, 300_000);

  it('5 steps, checkpoint, resume, 5 more = 10 uninterrupted steps, bit for bit', async () => {
    const run = async (o: Partial<LoopOptions>, resume?: ReturnType<typeof loadCheckpoint>) => {
      const unet = new UNet(engine, tiny, { seed: resume ? 77 : 1 });
      const task = new DiffusionTask(unet, noiseSchedule('linear', 100));
      await runTraining(task, squares, opts(o), {}, resume);
      const state = [...(await unet.stateDict())].map(([k, v]) => [k, Array.from(v.data)]);
      task.dispose();
      unet.dispose();
      return state;
    };
    const want = await run({ maxSteps: 10 });
    const dir = mkdtempSync(join(tmpdir(), 'inflow-diffusion-'));
    await run({ maxSteps: 5, checkpointDir: dir, checkpointEvery: 5 });
    const got = await run({ maxSteps: 10, checkpointDir: dir }, loadCheckpoint(checkpointPath(dir)));
    expect(got).toEqual(want);
  }, 300_000);
});
