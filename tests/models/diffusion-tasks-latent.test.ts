import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { decodeSafetensors, ModelFileError, type NamedArray } from '../../src/io/safetensors.js';
import { buildAutoencoder } from '../../src/models/autoencoder/autoencoder-bytes.js';
import type { AutoencoderConfig, CouplingAutoencoderConfig } from '../../src/models/autoencoder/config.js';
import { diffusionBytes, diffusionModelFromBytes, DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { AUTOENCODER_PREFIX, encodeImages, latentScaleOf } from '../../src/models/diffusion/latent.js';
import { checkDiffusionConfig, type DiffusionModelConfig } from '../../src/models/diffusion/schema.js';
import { unetParamCount } from '../../src/models/unet/shapes.js';
import { blobs, tinyCoupling, tinyVae } from './autoencoder-fixtures.js';
import { randomizeOutput, tinyConfig } from './diffusion-fixtures.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

const values = async (t: Tensor): Promise<number[]> => {
  const v = Array.from((await t.data()).subarray(0, t.size));
  t.dispose();
  return v;
};

/** A latent super-resolution model over a 1×8×8 autoencoder with a 4×2×2 latent, conditioned on the 2×2 LR image. */
function latentConfig(aeConfig: AutoencoderConfig, latentScale = 0.8): DiffusionModelConfig {
  const c = tinyConfig(25, 0);
  return {
    ...c, unet: { ...c.unet, imageSize: 2, inChannels: 4, outChannels: 4, channelMults: [1], attentionResolutions: [2], condChannels: 1 },
    conditioning: { kind: 'image', channels: 1, task: 'super-resolution', scale: 4 }, autoencoder: { config: aeConfig, latentScale },
  };
}

const cond = Float32Array.from({ length: 3 * 4 }, (_, i) => Math.sin(i) * 0.8);

describe('latent diffusion model files: the UNet and the autoencoder in one file', () => {
  for (const kind of ['conv-vae', 'coupling-autoencoder'] as const)
    it(`${kind}: save → load → the same decoded samples; the file carries both networks' tensors`, async () => {
      const ae = buildAutoencoder(engine, kind === 'conv-vae' ? tinyVae() : tinyCoupling(), { seed: 4 });
      const model = new DiffusionModel(engine, latentConfig(ae.config), { seed: 2, autoencoder: ae });
      randomizeOutput(model);
      expect(model.imageShape).toEqual([1, 8, 8]);
      expect(model.latentShape).toEqual([4, 2, 2]);
      expect(model.paramCount()).toBe(unetParamCount(model.config.unet) + ae.paramCount());
      const bytes = await model.toBytes();
      const names = [...decodeSafetensors(bytes).tensors.keys()];
      expect(names.filter((k) => k.startsWith(AUTOENCODER_PREFIX)).length).toBe([...ae.namedParams()].length);
      const loaded = diffusionModelFromBytes(bytes, { engine });
      await loaded.prepare();
      const o = { steps: 5, seed: 3, cond, output: 'data' as const };
      const [a, b] = [await values(await model.sample(3, o)), await values(await loaded.sample(3, o))];
      expect(a.length).toBe(3 * 64);
      expect(b).toEqual(a);
      // The sample is the decoder's image of the sampled latent: the same UNet alone (no clamping of x̂_0), then decode(x / latentScale).
      const { autoencoder: _ae, ...pixelConfig } = latentConfig(ae.config);
      const unetOnly = new DiffusionModel(engine, { ...pixelConfig, conditioning: { kind: 'image', channels: 1, task: 'image' } });
      unetOnly.unet.loadStateDict(new Map([...model.unet.namedParams()].map(([k, p]) => [k, { shape: p.shape, data: p.value.dataSync() }])));
      const x = await values(await unetOnly.sample(3, { ...o, clip: false }));
      const decoded = await values(ae.decode(engine.tensor(Float32Array.from(x, (v) => v / 0.8), [3, 4, 2, 2])));
      // Not bit for bit: here the latent is rounded to float32 before the division by latentScale, in sample after it,
      // and the coupling autoencoder's inverse amplifies a last-bit difference.
      expect(Math.max(...decoded.map((v, i) => Math.abs(v - a[i]!)))).toBeLessThan(kind === 'conv-vae' ? 1e-5 : 2e-3);
      unetOnly.dispose();
      expect(Array.from(await loaded.toBytes())).toEqual(Array.from(bytes));
      model.dispose();
      loaded.dispose();
    }, 60_000);

  it('refuses a file whose autoencoder tensors are missing, misshapen or extra, in one line', async () => {
    const ae = buildAutoencoder(engine, tinyVae(), { seed: 4 });
    const model = new DiffusionModel(engine, latentConfig(ae.config), { seed: 2, autoencoder: ae });
    const { tensors } = decodeSafetensors(await model.toBytes());
    const config = model.config;
    const load = (t: Map<string, NamedArray>) => () => diffusionModelFromBytes(diffusionBytes(config, t), { engine, name: 'sr.safetensors' });
    const name = 'autoencoder.decoder.conv_out.weight';
    const missing = new Map(tensors);
    missing.delete(name);
    expect(load(missing)).toThrow(ModelFileError);
    expect(load(missing)).toThrow(/^sr.safetensors: the config declares [\d,]+ parameters but the file carries [\d,]+ \(parameter 'autoencoder.decoder.conv_out.weight' is missing\)$/);
    const misshapen = new Map(tensors);
    const w = tensors.get(name)!;
    misshapen.set(name, { shape: [w.shape[1]!, w.shape[0]!, w.shape[2]!, w.shape[3]!], data: w.data });
    expect(load(misshapen)).toThrow(/^sr.safetensors: tensor 'autoencoder.decoder.conv_out.weight' has shape \[\d+, \d+, 3, 3\], the model expects \[\d+, \d+, 3, 3\]$/);
    const none = new Map([...tensors].filter(([k]) => !k.startsWith(AUTOENCODER_PREFIX)));
    expect(load(none)).toThrow(/^sr.safetensors: the config declares [\d,]+ parameters but the file carries [\d,]+ \(parameter 'autoencoder\.[\w.]+' is missing\)$/);
    const stray = new Map(tensors).set('autoencoder.extra.weight', { shape: [1], data: new Float32Array(1) });
    expect(load(stray)).toThrow(/tensor 'autoencoder.extra.weight' is not a parameter of this latent diffusion model/);
    model.dispose();
  });

  it('checks the autoencoder entry of the config: its own schema, LU fields of a coupling one, its latent equal to the UNet\'s input', () => {
    const problem = (c: unknown) => {
      const r = checkDiffusionConfig(c);
      return r.ok ? null : r.problem;
    };
    const ae = buildAutoencoder(engine, tinyCoupling(), { seed: 1 });
    const good = latentConfig(ae.config);
    expect(problem(good)).toBeNull();
    expect(problem({ ...good, autoencoder: { ...good.autoencoder, config: { ...ae.config, width: 0 } } })).toMatch(/^config autoencoder.config width = 0 must be an integer from 1 to/);
    const { lu: _lu, ...noLu } = ae.config as CouplingAutoencoderConfig;
    expect(problem({ ...good, autoencoder: { ...good.autoencoder, config: noLu } })).toMatch(/^config autoencoder.config.lu is missing/);
    expect(problem({ ...good, autoencoder: { latentScale: 1 } })).toMatch(/^config autoencoder.config is missing/);
    expect(problem({ ...good, autoencoder: { ...good.autoencoder, latentScale: 0 } })).toMatch(/^config autoencoder.latentScale = 0 must be a number from 0.000001 to 1000000$/);
    expect(problem({ ...good, unet: { ...good.unet, inChannels: 3, outChannels: 3 } })).toMatch(/^config autoencoder.config: its latent 4×2×2 must be the UNet's input \(unet.inChannels 3, unet.imageSize 2\)$/);
    expect(problem({ ...good, conditioning: { ...good.conditioning, scale: 3 } })).toMatch(/conditioning.scale = 3 must divide the autoencoder's image side 8/);
    expect(problem({ ...good, conditioning: { kind: 'image', channels: 1, task: 'restoration', scale: 4 } })).toMatch(/^config conditioning.scale = 4 is for super-resolution models only \(this one.s task is restoration\)$/);
    ae.dispose();
  });

  it('a pixel model refuses RePaint on a latent model, and a given autoencoder must match the config', async () => {
    const ae = buildAutoencoder(engine, tinyVae(), { seed: 4 });
    const other = buildAutoencoder(engine, tinyVae({ baseChannels: 8 }), { seed: 4 });
    expect(() => new DiffusionModel(engine, latentConfig(ae.config), { autoencoder: other })).toThrow(/^DiffusionModel: the autoencoder's config differs from config.autoencoder.config$/);
    const model = new DiffusionModel(engine, latentConfig(ae.config), { autoencoder: ae });
    await expect(model.inpaint(new Float32Array(64), new Float32Array(64), { steps: 2 })).rejects.toThrow(/^DiffusionModel.inpaint: this is a latent model/);
    model.dispose();
    other.dispose();
  });

  it('encodeImages batches the encoder; latentScaleOf is 1 / the standard deviation', async () => {
    const ae = buildAutoencoder(engine, tinyVae(), { seed: 4 });
    const x = blobs(5, [1, 8, 8], 2);
    const whole = await values(ae.encode(engine.tensor(x, [5, 1, 8, 8])));
    const done: number[] = [];
    const batched = await encodeImages(ae, x, { batch: 2, onBatch: (d) => done.push(d) });
    expect(done).toEqual([2, 4, 5]);
    const maxDiff = Math.max(...whole.map((v, i) => Math.abs(v - batched[i]!)));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(latentScaleOf([1, 3, 1, 3])).toBe(1);
    expect(latentScaleOf([0, 0, 4, 4])).toBe(0.5);
    expect(() => latentScaleOf([2, 2, 2])).toThrow(/standard deviation is 0/);
    ae.dispose();
  });
});
