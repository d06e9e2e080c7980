import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src/data/rng.js';
import { createEngine } from '../../../src/engine/dispatcher.js';
import type { Engine } from '../../../src/engine/engine.js';
import { ConditionalGan } from '../../../src/models/gan/conditional-gan.js';
import type { GanConfig, GanLossKind } from '../../../src/models/gan/config.js';
import { checkGanGeneratorBytes, GAN_GENERATOR_FORMAT, ganGeneratorFromBytes, ganGeneratorToBytes } from '../../../src/models/gan/gan-file.js';
import { encodeSafetensors, type NamedArray } from '../../../src/io/safetensors.js';
import { sampleGan } from '../../../src/models/gan/sample.js';
import { Ema } from '../../../src/train/ema.js';
import { loadCheckpoint } from '../../../src/train/checkpoint.js';
import { checkpointPath, defaultLoopOptions, runTraining } from '../../../src/train/loop.js';
import { ConditionalGanTask } from '../../../src/train/tasks/conditional-gan.js';
import { tensorData } from '../../../src/train/tensor-data.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

/** 8×8 grey toy images in [−1, 1]: class 0 a bright top half, class 1 a bright left half, with noise. */
function toyImages(n: number, seed: number): { values: Float32Array; labels: number[] } {
  const rng = new Rng(seed), values = new Float32Array(n * 64), labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = i % 2;
    labels.push(y);
    for (let r = 0; r < 8; r++)
      for (let c = 0; c < 8; c++) values[i * 64 + r * 8 + c] = ((y === 0 ? r < 4 : c < 4) ? 0.8 : -0.8) + 0.1 * rng.normal();
  }
  return { values, labels };
}

const config = (loss: GanLossKind): GanConfig =>
  ({ kind: 'conditional-gan', resolution: 8, imageChannels: 1, classes: 2, zDim: 8, ch: 4, gWidths: [2, 2], dWidths: [2, 2], sharedDim: 0, loss });

describe('ConditionalGanTask on two-class toy images', () => {
  // The paper's loss gets the 200-step run; plain hinge a shorter one.
  it.each([['hinge', 30], ['multi-hinge', 200]] as [GanLossKind, number][])('%s: %i steps (2 D steps each) keep losses finite and D short of catching every fake', async (loss, steps) => {
    const { values, labels } = toyImages(64, 3);
    const gan = new ConditionalGan(engine, config(loss), 1);
    const ema = new Ema(gan.generator, 0.9);
    const task = new ConditionalGanTask(gan, { labels, discriminatorSteps: 2, ema });
    const seen: { loss: number; d: number; caught: number }[] = [];
    await runTraining(task, tensorData(values, [1, 8, 8]), { ...defaultLoopOptions, epochs: 100, batch: 16, lr: 1e-3, warmupSteps: 0, seed: 5, maxSteps: steps },
      { onStep: (m) => seen.push({ loss: m.loss, d: m.metrics!.discriminator!, caught: m.metrics!.fakesCaught! }) });
    expect(seen).toHaveLength(steps);
    expect(task.groups.map((g) => g.optimizer.t)).toEqual([2 * steps, steps]);
    expect(seen.every((s) => Number.isFinite(s.loss) && Number.isFinite(s.d))).toBe(true);
    const late = seen.slice(-10).map((s) => s.caught);
    expect(late.every((c) => c >= 0 && c <= 1)).toBe(true);
    // One batch of 16 can all be caught; a discriminator that has won catches every one, step after step.
    expect(late.reduce((a, b) => a + b) / late.length, `fakes caught in the last 10 steps: ${late}`).toBeLessThan(0.95);
    expect(ema.updates).toBe(steps);

    // The file holds the EMA's weights; a reloaded generator samples exactly as the EMA does.
    const bytes = await ganGeneratorToBytes(gan.generator, ema);
    expect(checkGanGeneratorBytes(bytes, 'toy').config).toEqual(gan.config);
    const loaded = ganGeneratorFromBytes(bytes, { engine });
    const opts = { labels: [0, 1, 1, 0], truncation: 1.5, seed: 9 };
    const fromFile = await sampleGan(loaded, opts).data();
    const fromEma = await ema.withAverages(async () => sampleGan(gan.generator, opts).data());
    expect(Array.from(fromFile)).toEqual(Array.from(fromEma));
    const trained = await sampleGan(gan.generator, opts).data();
    expect(Array.from(trained)).not.toEqual(Array.from(fromFile));
    loaded.dispose();
    task.dispose();
    gan.dispose();
  }, 60_000);

  it('4 steps, checkpoint, resume, 4 more = 8 uninterrupted steps, bit for bit (weights, BN statistics, spectral-norm vectors, EMA)', async () => {
    const { values, labels } = toyImages(32, 4);
    const run = async (o: { maxSteps: number; checkpointDir?: string; checkpointEvery?: number }, resume?: ReturnType<typeof loadCheckpoint>) => {
      const gan = new ConditionalGan(engine, config('multi-hinge'), resume ? 7 : 1);
      const ema = new Ema(gan.generator, 0.8);
      const task = new ConditionalGanTask(gan, { labels, discriminatorSteps: 2, ema });
      await runTraining(task, tensorData(values, [1, 8, 8]), { ...defaultLoopOptions, epochs: 100, batch: 8, lr: 1e-3, warmupSteps: 0, seed: 5, ...o }, {}, resume);
      const state = [...(await gan.stateDict())].map(([k, v]) => [k, Array.from(v.data)]);
      const averaged = Array.from(await ganGeneratorToBytes(gan.generator, ema));
      task.dispose();
      gan.dispose();
      return { state, averaged };
    };
    const want = await run({ maxSteps: 8 });
    const dir = mkdtempSync(join(tmpdir(), 'inflow-cgan-'));
    await run({ maxSteps: 4, checkpointDir: dir, checkpointEvery: 4 });
    const got = await run({ maxSteps: 8, checkpointDir: dir }, loadCheckpoint(checkpointPath(dir)));
    expect(got.state).toEqual(want.state);
    expect(got.averaged).toEqual(want.averaged);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a file whose tensors do not match its config is refused in one line', async () => {
    const gan = new ConditionalGan(engine, config('hinge'));
    const tensors = new Map<string, NamedArray>();
    for (const [name, t] of await gan.generator.stateDict()) if (name !== 'out.u') tensors.set(name, t);
    const meta = { 'inflow.format': GAN_GENERATOR_FORMAT, 'inflow.config': JSON.stringify(gan.config) };
    expect(() => checkGanGeneratorBytes(encodeSafetensors(tensors, meta), 'g.safetensors')).toThrow(/^g\.safetensors: .*parameter 'out\.u' is missing/);
    const wrong = { ...meta, 'inflow.config': JSON.stringify({ ...gan.config, ch: 3 }) };
    expect(() => checkGanGeneratorBytes(encodeSafetensors(tensors, wrong), 'g.safetensors')).toThrow(/^g\.safetensors: the config declares/);
    const good = await ganGeneratorToBytes(gan.generator);
    expect(() => checkGanGeneratorBytes(good.subarray(0, good.length - 4), 'cut.safetensors')).toThrow(/^cut\.safetensors: /);
    gan.dispose();
  });

  it('refuses bad options and labels in one line', () => {
    const gan = new ConditionalGan(engine, config('hinge'));
    expect(() => new ConditionalGanTask(gan, { labels: [0, 2] })).toThrow(/label 2 at position 1 is not a class 0…1/);
    expect(() => new ConditionalGanTask(gan, { labels: [0, 1], discriminatorSteps: 0 })).toThrow(/discriminatorSteps = 0/);
    expect(() => new ConditionalGanTask(gan, { labels: [0, 1], multiHingeWeight: -1 })).toThrow(/multiHingeWeight = -1/);
    gan.dispose();
  });
});
