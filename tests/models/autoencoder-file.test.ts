import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { decodeSafetensors, encodeSafetensors, ModelFileError, type NamedArray } from '../../src/io/safetensors.js';
import { saveDiffusionModel } from '../../src/models/diffusion/diffusion-file.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { autoencoderFromBytes, buildAutoencoder, checkAutoencoderBytes } from '../../src/models/autoencoder/autoencoder-bytes.js';
import { loadAutoencoder, saveAutoencoder } from '../../src/models/autoencoder/autoencoder-file.js';
import { defaultConvVaeConfig, defaultCouplingConfig, type AutoencoderConfig } from '../../src/models/autoencoder/config.js';
import { encodeAutoencoder } from '../../src/models/autoencoder/format.js';
import { autoencoderActivationBytes, autoencoderParamCount, autoencoderParamShapes } from '../../src/models/autoencoder/shapes.js';
import { maxAbsDiff, perturb } from '../layers/contract.js';
import { tinyConfig } from './diffusion-fixtures.js';
import { blobBatch, tinyCoupling, tinyVae } from './autoencoder-fixtures.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

const dir = mkdtempSync(join(tmpdir(), 'inflow-autoencoder-file-'));

const configs: AutoencoderConfig[] = [
  tinyCoupling(), tinyCoupling({ imageShape: [3, 8, 4], latentChannels: 20, steps: 1, width: 5, priorWidth: 3 }),
  tinyVae(), tinyVae({ imageShape: [3, 8, 8], latentChannels: 12, channelMults: [1, 3], resBlocks: 2, baseChannels: 2, groups: 2 }),
];

describe('autoencoder parameters from the config alone', () => {
  it('name and shape every parameter a built model has, and nothing else', () => {
    for (const c of configs) {
      const m = buildAutoencoder(engine, c);
      const built = new Map([...m.namedParams()].map(([k, p]) => [k, [...p.shape]]));
      expect(new Map([...autoencoderParamShapes(m.config)].sort()), JSON.stringify(c)).toEqual(new Map([...built].sort()));
      expect(autoencoderParamCount(m.config)).toBe(m.paramCount());
      m.dispose();
    }
  });

  it('the default coupling autoencoder has fewer parameters than the default conv VAE (MNIST 4×7×7 and colour 12×8×8 latents)', () => {
    for (const shape of [[1, 28, 28], [3, 32, 32]] as Array<[number, number, number]>) {
      const coupling = autoencoderParamCount(defaultCouplingConfig(shape)), vae = autoencoderParamCount(defaultConvVaeConfig(shape));
      expect(coupling, JSON.stringify(shape)).toBeLessThan(vae);
    }
  });

  it('the activation estimate stays above what encode, decode and reconstruct leave alive in one scope', async () => {
    for (const c of configs) {
      const m = buildAutoencoder(engine, c);
      const N = 4, x = blobBatch(engine, N, c.imageShape), before = engine.memory().bytes;
      let live = 0;
      engine.noGrad(() => engine.scope(() => {
        const z = m.encode(x);
        m.decode(z);
        m.reconstruct(x);
        live = engine.memory().bytes - before;
      }));
      expect(live).toBeGreaterThan(0);
      expect(autoencoderActivationBytes(c) * N, JSON.stringify(c)).toBeGreaterThan(live);
      x.dispose();
      m.dispose();
    }
  });
});

describe('autoencoder model files', () => {
  it('save → load gives the same encode and decode, bit for bit, the same config and weights (both kinds)', async () => {
    for (const c of [tinyCoupling(), tinyVae()]) {
      const m = buildAutoencoder(engine, c, { seed: 4 });
      await perturb(m, 0.05, 6);
      const path = join(dir, `${c.kind}.safetensors`);
      await saveAutoencoder(m, path);
      const loaded = await loadAutoencoder(path, { engine });
      expect(loaded.config).toEqual(m.config);
      expect(loaded.constructor).toBe(m.constructor);
      const x = blobBatch(engine, 3, c.imageShape);
      const [z1, z2] = [m.encode(x), loaded.encode(x)];
      expect(maxAbsDiff(await z1.data(), await z2.data())).toBe(0);
      const [d1, d2] = [m.decode(z1), loaded.decode(z1)];
      expect(maxAbsDiff(await d1.data(), await d2.data())).toBe(0);
      for (const [k, v] of await m.stateDict()) expect(maxAbsDiff((await loaded.stateDict()).get(k)!.data, v.data), k).toBe(0);
      // Loaded actnorms keep their weights: the first encode does not re-initialise them from the batch.
      const other = blobBatch(engine, 2, c.imageShape, 11);
      loaded.encode(other).dispose();
      const z3 = loaded.encode(x);
      expect(maxAbsDiff(await z3.data(), await z1.data())).toBe(0);
      for (const t of [x, z1, z2, d1, d2, z3, other]) t.dispose();
      m.dispose();
      loaded.dispose();
    }
  });

  async function bytesOf(c: AutoencoderConfig): Promise<{ bytes: Uint8Array; config: AutoencoderConfig; tensors: Map<string, NamedArray> }> {
    const m = buildAutoencoder(engine, c);
    const bytes = await m.toBytes(), config = m.config;
    m.dispose();
    return { bytes, config, tensors: decodeSafetensors(bytes).tensors };
  }

  const refuse = async (bytes: Uint8Array, message: RegExp) => {
    let err: unknown;
    try {
      await autoencoderFromBytes(bytes, { engine, name: 'm.safetensors' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  };

  it('refuses a file of another format, a config without the LU fields, wrong tensors and corruption, in one line', async () => {
    const { bytes, config, tensors } = await bytesOf(tinyCoupling());
    const diffusion = join(dir, 'diffusion.safetensors');
    const dm = new DiffusionModel(engine, tinyConfig());
    await saveDiffusionModel(dm, diffusion);
    dm.dispose();
    await refuse(readFileSync(diffusion), /m.safetensors: not an inflow autoencoder file \(format "inflow-diffusion-1"\) \(a diffusion model: use `inflow diffuse`\)/);
    const { lu: _lu, ...noLu } = config as AutoencoderConfig & { lu?: unknown };
    await refuse(encodeAutoencoder(noLu as AutoencoderConfig, tensors), /config lu is missing \(the 1×1 layers' permutations and signs/);
    await refuse(encodeAutoencoder({ ...config, width: 9 } as AutoencoderConfig, tensors), /the config declares [\d,]+ parameters but the file carries [\d,]+ \(tensor 'flow.level0.0.coupling.net.conv1.weight' has shape \[8, 2, 3, 3\], the model expects \[9, 2, 3, 3\]\)/);
    const extra = new Map(tensors).set('prior.extra', { shape: [1], data: new Float32Array(1) });
    await refuse(encodeAutoencoder(config, extra), /tensor 'prior.extra' is not a parameter of this coupling-autoencoder model/);
    await refuse(encodeAutoencoder({ ...config, latentChannels: 16 } as AutoencoderConfig, tensors), /m.safetensors: config latentChannels = 16 must be below/);
    const flipped = bytes.slice();
    flipped[flipped.length - 3]! ^= 0x10;
    await refuse(flipped, /fails its checksum/);
    const nan = new Map(tensors);
    const w = nan.get('prior.out.bias')!;
    nan.set('prior.out.bias', { shape: w.shape, data: Float32Array.from(w.data, (v, i) => (i === 2 ? NaN : v)) });
    await refuse(encodeSafetensors(nan, decodeSafetensors(bytes).metadata), /tensor 'prior.out.bias' holds NaN at index 2/);
    // A singular LU 1×1 (its diagonal exp(s) underflows) is refused when the model forms its inverses on load.
    const singular = new Map(tensors);
    singular.set('flow.level1.0.conv1x1.logs', { shape: [16], data: new Float32Array(16).fill(-1e30) });
    await refuse(encodeAutoencoder(config, singular), /m.safetensors: Conv1x1LU: the weight is singular/);
  });

  it('refuses a model over the memory budget before building it', async () => {
    const { bytes } = await bytesOf(defaultConvVaeConfig([1, 28, 28]));
    expect(() => checkAutoencoderBytes(bytes, 'vae.safetensors', { memoryBudget: 2 ** 20 }))
      .toThrow(/vae.safetensors: 1 1×28×28 image through a conv-vae of [\d,]+ parameters needs .* over the memory budget of 1.0 MiB/);
    await expect(loadAutoencoder(dir, { engine })).rejects.toThrow(/is a folder, not a model file/);
  });
});
