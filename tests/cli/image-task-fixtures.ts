import { join } from 'node:path';
import sharp from 'sharp';
import { createEngine } from '../../src/engine/dispatcher.js';
import { buildAutoencoder } from '../../src/models/autoencoder/autoencoder-bytes.js';
import { saveDiffusionModel } from '../../src/models/diffusion/diffusion-file.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import type { DiffusionModelConfig, ImageConditioning } from '../../src/models/diffusion/schema.js';
import { tinyVae } from '../models/autoencoder-fixtures.js';
import { randomizeOutput, tinyConfig } from '../models/diffusion-fixtures.js';

/** A never-trained 1×28×28 UNet (base 8, levels 28 and 14) with the given image condition and classes: the commands only need its file. */
export function pixelConfig(conditioning?: ImageConditioning, classes = 0): DiffusionModelConfig {
  const c = tinyConfig(25, classes);
  return {
    ...c, unet: { ...c.unet, imageSize: 28, channelMults: [1, 2], attentionResolutions: [14], ...(conditioning ? { condChannels: conditioning.channels } : {}) },
    ...(conditioning ? { conditioning } : {}),
    sampler: { ...c.sampler, steps: 3 },
  };
}

export const SR: ImageConditioning = { kind: 'image', channels: 1, task: 'super-resolution', scale: 4 };
export const RESTORE: ImageConditioning = { kind: 'image', channels: 1, task: 'restoration', degradations: ['gaussian-noise'] };
export const INPAINT: ImageConditioning = { kind: 'image', channels: 2, task: 'inpainting' };

/** Writes tiny model files into `dir` by name; 'latent-sr' is a ×4 latent model over a 1×28×28 conv VAE with a 4×7×7 latent. */
export async function writeModels(dir: string, which: Record<string, DiffusionModelConfig | 'latent-sr'>): Promise<void> {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  try {
    for (const [name, config] of Object.entries(which)) {
      let model: DiffusionModel;
      if (config === 'latent-sr') {
        const ae = buildAutoencoder(engine, tinyVae({ imageShape: [1, 28, 28] }), { seed: 2 });
        const c = tinyConfig(25, 0);
        model = new DiffusionModel(engine, {
          ...c, unet: { ...c.unet, imageSize: 7, inChannels: 4, outChannels: 4, channelMults: [1], attentionResolutions: [7], condChannels: 1 },
          conditioning: SR, autoencoder: { config: ae.config, latentScale: 1 }, sampler: { ...c.sampler, steps: 3 },
        }, { seed: 1, autoencoder: ae });
      } else model = new DiffusionModel(engine, config, { seed: 1 });
      // A fresh UNet's output layers are zero; random ones make the seed and the condition matter.
      randomizeOutput(model);
      await saveDiffusionModel(model, join(dir, name));
      model.dispose();
    }
  } finally {
    engine.dispose();
  }
}

/** A grey (or RGB) PNG of w × h whose pixel (x, y) is f(x, y). */
export async function writeImage(path: string, w: number, h: number, f: (x: number, y: number, c: number) => number, channels: 1 | 3 = 1): Promise<void> {
  const data = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) data[(y * w + x) * channels + c] = f(x, y, c);
  const img = sharp(data, { raw: { width: w, height: h, channels } });
  await (channels === 1 ? img.toColourspace('b-w') : img).png().toFile(path);
}

/** A PNG's pixels (interleaved), width, height and channels as stored in the file. */
export async function readPng(path: string): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const channels = (await sharp(path).metadata()).channels!;
  const img = sharp(path);
  const { data, info } = await (channels === 1 ? img.grayscale() : img).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels };
}

export { runCliInProcess as inProcess } from '../helpers/cli.js';
