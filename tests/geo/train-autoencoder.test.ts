import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { PixelAutoencoder, pixelAutoencoderPreset } from '../../src/geo/pixel-autoencoder.js';
import { kerasDecay, reconstructionMse, trainPixelAutoencoder } from '../../src/geo/train-autoencoder.js';
import { rng } from '../helpers/random.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine?.dispose());

/** n rows of d values on a 2-D plane plus a little noise: a code of 2 can reconstruct them. */
function planeRows(n: number, d: number, seed: number): Float32Array {
  const r = rng(seed), u = Array.from({ length: d }, () => r() * 2 - 1), v = Array.from({ length: d }, () => r() * 2 - 1);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const a = 2 * r() - 1, b = 2 * r() - 1;
    for (let t = 0; t < d; t++) x[i * d + t] = a * u[t]! + b * v[t]! + 0.01 * (r() - 0.5);
  }
  return x;
}

describe('trainPixelAutoencoder', () => {
  it('implements Keras time-based decay', () => {
    expect(kerasDecay(0.01, 0, 500)).toBe(0.01);
    expect(kerasDecay(0.01, 1e-4, 0)).toBe(0.01);
    expect(kerasDecay(0.01, 1e-4, 10000)).toBeCloseTo(0.005, 12);
  });

  it('reduces the reconstruction error, reproducibly from its seed', async () => {
    const n = 600, d = 6, x = planeRows(n, d, 1);
    const run = async () => {
      const m = new PixelAutoencoder(engine, pixelAutoencoderPreset('ae', d, 2), { seed: 1 });
      const before = await reconstructionMse(m, x, n);
      const progress: number[] = [];
      const r = await trainPixelAutoencoder(m, x, n, { optimizer: 'adam', learningRate: 0.01, epochs: 6, batchSize: 32, seed: 4, onProgress: (e) => progress.push(e.done) });
      const after = await reconstructionMse(m, x, n);
      m.dispose();
      return { before, after, r, progress };
    };
    const a = await run(), b = await run();
    expect(a.r.history.length).toBe(6);
    expect(a.after).toBeLessThan(a.before / 5);
    expect(a.r.history.at(-1)!.valLoss).toBeLessThan(a.r.history[0]!.valLoss);
    expect(a.progress.at(-1)).toBe(6 * Math.ceil(540 / 32));
    expect(b.r.history).toEqual(a.r.history);
  });

  it('decays the SGD learning rate: a large decay trains less in the same updates', async () => {
    const n = 400, d = 5, x = planeRows(n, d, 2);
    const final = async (decay: number) => {
      const m = new PixelAutoencoder(engine, pixelAutoencoderPreset('sae', d, 2), { seed: 2 });
      const r = await trainPixelAutoencoder(m, x, n, { optimizer: 'sgd', learningRate: 0.05, decay, epochs: 3, batchSize: 16, seed: 1 });
      m.dispose();
      return r.history.at(-1)!.loss;
    };
    expect(await final(0)).toBeLessThan(await final(5));
  });

  it('stops early when the held-out loss does not improve for `patience` epochs', async () => {
    const n = 200, d = 4, x = planeRows(n, d, 3);
    const m = new PixelAutoencoder(engine, pixelAutoencoderPreset('ae', d, 2), { seed: 3 });
    // A learning rate far below float32 resolution leaves the weights, and so the held-out loss, unchanged.
    const r = await trainPixelAutoencoder(m, x, n, { learningRate: 1e-20, epochs: 20, patience: 2, batchSize: 50 });
    expect(r.history.length).toBe(3);
    expect(r.stoppedEarly).toBe(true);
    expect(r.bestEpoch).toBe(0);
    m.dispose();
  });

  it('refuses bad options and mismatched data in one line', async () => {
    const m = new PixelAutoencoder(engine, pixelAutoencoderPreset('ae', 4, 2));
    const x = planeRows(20, 4, 4);
    await expect(trainPixelAutoencoder(m, x, 20, { optimizer: 'rmsprop' as never })).rejects.toThrow(/optimizer must be 'sgd' or 'adam'/);
    await expect(trainPixelAutoencoder(m, x, 20, { learningRate: -1 })).rejects.toThrow(/learningRate must be a number above 0/);
    await expect(trainPixelAutoencoder(m, x, 20, { epochs: 0 })).rejects.toThrow(/epochs must be an integer ≥ 1/);
    await expect(trainPixelAutoencoder(m, x, 21)).rejects.toThrow(/data holds 80 values, not n × bands = 21 × 4/);
    await expect(trainPixelAutoencoder(m, x, 20, { learningRate: 1e30, optimizer: 'sgd', epochs: 3 })).rejects.toThrow(/the loss became .* lower the learning rate/);
    m.dispose();
  });
});
