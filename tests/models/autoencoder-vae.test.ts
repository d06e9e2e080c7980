import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { InflowError } from '../../src/engine/errors.js';
import { ConvVae } from '../../src/models/autoencoder/conv-vae.js';
import { maxAbsDiff, perturb } from '../layers/contract.js';
import { blobBatch, tinyVae } from './autoencoder-fixtures.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

describe('the conv VAE', () => {
  it('maps C×H×W images to the latent the levels imply and back', async () => {
    for (const [config, latent] of [[tinyVae(), [4, 2, 2]], [tinyVae({ imageShape: [3, 8, 8], latentChannels: 12 }), [12, 2, 2]],
      [tinyVae({ channelMults: [1, 2], imageShape: [1, 8, 4] }), [4, 4, 2]], [tinyVae({ channelMults: [2] }), [4, 8, 8]]] as const) {
      const m = new ConvVae(engine, config, { seed: 2 });
      expect(m.latentShape).toEqual(latent);
      const x = blobBatch(engine, 3, config.imageShape);
      const z = m.encode(x);
      expect(z.shape).toEqual([3, ...latent]);
      const y = m.decode(z);
      expect(y.shape).toEqual([3, ...config.imageShape]);
      for (const t of [x, z, y]) t.dispose();
      m.dispose();
    }
  });

  it('encode is the posterior mean, deterministic; reconstruct = decode(encode(x)); the loss with ε = 0 is its MSE', async () => {
    const m = new ConvVae(engine, tinyVae(), { seed: 2 });
    await perturb(m, 0.05, 3);
    const x = blobBatch(engine, 4, [1, 8, 8]);
    const z = m.encode(x), again = m.encode(x), { mean, logVariance } = m.moments(x);
    expect(maxAbsDiff(await z.data(), await again.data())).toBe(0);
    expect(maxAbsDiff(await z.data(), await mean.data())).toBe(0);
    const recon = m.reconstruct(x), dec = m.decode(z);
    expect(maxAbsDiff(await recon.data(), await dec.data())).toBe(0);
    const xv = await x.data64(), rv = await recon.data64();
    let mse = 0;
    for (let i = 0; i < xv.length; i++) mse += (rv[i]! - xv[i]!) ** 2;
    const zero = engine.zeros([4, 4, 2, 2]);
    const { total, terms } = m.trainingLoss(x, zero, 0.3);
    expect((await terms.rec!.data64())[0]).toBeCloseTo(mse / xv.length, 6);
    // KL(q ‖ N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²), per image value.
    const [mv, lv] = [await mean.data64(), await logVariance.data64()];
    let kl = 0;
    for (let i = 0; i < mv.length; i++) kl += 0.5 * (mv[i]! ** 2 + Math.exp(lv[i]!) - 1 - lv[i]!);
    expect((await terms.kl!.data64())[0]).toBeCloseTo(kl / 4 / 64, 6);
    expect((await total.data64())[0]).toBeCloseTo(mse / xv.length + (0.3 * kl) / 4 / 64, 6);
    // With noise the sample moves by σ ε, so the reconstruction term changes.
    const eps = m.drawNoise(4, new Rng(1));
    expect(eps.shape).toEqual([4, 4, 2, 2]);
    expect((await m.trainingLoss(x, eps, 0.3).terms.rec!.data64())[0]).not.toBeCloseTo(mse / xv.length, 6);
    m.dispose();
  });

  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ groups: 3 }, /config groups = 3 must divide every level's channels \(level 0 has 4\)/],
    [{ imageShape: [1, 6, 6] }, /config imageShape = \[1, 6, 6\] must have H and W divisible by 4 \(3 levels halve them 2 times\)/],
    [{ channelMults: [] }, /config channelMults = \[\] must list at least one level/],
    [{ channelMults: [1, 2, 2, 2, 2] }, /must list at most 4 levels/],
    [{ latentChannels: 0 }, /config latentChannels = 0 must be an integer from 1 to 1024/],
    [{ resBlocks: undefined }, /config resBlocks is missing/],
  ];
  it.each(bad)('refuses %j in one line', (over, message) => {
    let err: unknown;
    try {
      new ConvVae(engine, { ...tinyVae(), ...over } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InflowError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('names a tensor of the wrong shape and a batch over the memory budget', async () => {
    const m = new ConvVae(engine, tinyVae());
    const z = engine.zeros([2, 3, 2, 2]);
    expect(() => m.decode(z)).toThrow(/ConvVae.decode: z \[2, 3, 2, 2\] must be latents \[N, 4, 2, 2\]/);
    const small = await createEngine({ backend: 'wasm', threads: 1, memoryBudget: 2 ** 20 });
    const v = new ConvVae(small, tinyVae());
    const big = small.zeros([2000, 1, 8, 8]);
    expect(() => v.encode(big)).toThrow(/ConvVae.encode: 2000 1×8×8 images through a conv-vae of [\d,]+ parameters \(at most \d+ fit\) needs .* over the memory budget of 1.0 MiB/);
    for (const t of [z, big]) t.dispose();
    v.dispose();
    small.dispose();
    m.dispose();
  });
});
