import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { buildAutoencoder } from '../../src/models/autoencoder/autoencoder-bytes.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { encodeImages, latentScaleOf } from '../../src/models/diffusion/latent.js';
import type { DiffusionModelConfig, ImageConditioning } from '../../src/models/diffusion/schema.js';
import { inpaintingConditioner, lowResolutionConditions, restorationConditioner, superResolutionConditioner } from '../../src/train/conditioners/index.js';
import { defaultLoopOptions, runTraining, type LoopOptions } from '../../src/train/loop.js';
import { pairedTensorData } from '../../src/train/paired-data.js';
import { DiffusionTask } from '../../src/train/tasks/diffusion.js';
import { tensorData, type TensorData } from '../../src/train/tensor-data.js';
import { blobs, tinyVae } from './autoencoder-fixtures.js';
import { tinyConfig } from './diffusion-fixtures.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

const opts = (o: Partial<LoopOptions> = {}): LoopOptions => ({ ...defaultLoopOptions, epochs: 50, batch: 8, lr: 3e-3, warmupSteps: 3, clip: 1, seed: 5, maxSteps: 40, ...o });
const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

const conditioned = (conditioning: ImageConditioning, unet: Partial<DiffusionModelConfig['unet']> = {}): DiffusionModelConfig => {
  const c = tinyConfig(100, 0);
  return { ...c, unet: { ...c.unet, condChannels: conditioning.channels, ...unet }, conditioning };
};

/** Trains 40 steps and returns the losses. */
async function losses(config: DiffusionModelConfig, data: TensorData): Promise<number[]> {
  const model = new DiffusionModel(engine, config, { seed: 1 });
  const task = new DiffusionTask(model.unet, model.schedule);
  const out: number[] = [];
  await runTraining(task, data, opts(), { onStep: (m) => out.push(m.loss) });
  task.dispose();
  model.dispose();
  return out;
}

const targets = tensorData(blobs(48, [1, 8, 8], 7), [1, 8, 8]);

describe('each image-conditioned task trains: the ε-loss falls over 40 steps', () => {
  const cases: Array<[string, DiffusionModelConfig, TensorData]> = [
    ['super-resolution ×2', conditioned({ kind: 'image', channels: 1, task: 'super-resolution', scale: 2 }), pairedTensorData(targets, superResolutionConditioner([1, 8, 8], 2))],
    ['restoration (all kinds)', conditioned({ kind: 'image', channels: 1, task: 'restoration' }), pairedTensorData(targets, restorationConditioner([1, 8, 8]))],
    ['inpainting', conditioned({ kind: 'image', channels: 2, task: 'inpainting' }), pairedTensorData(targets, inpaintingConditioner([1, 8, 8]))],
  ];
  for (const [name, config, data] of cases)
    it(name, async () => {
      const l = await losses(config, data);
      expect(avg(l.slice(-10)), l.map((v) => v.toFixed(2)).join(' ')).toBeLessThan(0.75 * avg(l.slice(0, 10)));
    }, 120_000);

  it('latent super-resolution ×4 on a conv VAE\'s 4×2×2 latents (scaled to unit spread), conditioned on the 2×2 LR image', async () => {
    const ae = buildAutoencoder(engine, tinyVae(), { seed: 3 });
    const hr = targets.values([...Array(targets.count).keys()]);
    const latents = await encodeImages(ae, hr, { batch: 20 });
    const s = latentScaleOf(latents);
    for (let i = 0; i < latents.length; i++) latents[i]! *= s;
    expect(latentScaleOf(latents)).toBeCloseTo(1, 5);
    const config: DiffusionModelConfig = {
      ...conditioned({ kind: 'image', channels: 1, task: 'super-resolution', scale: 4 }, { imageSize: 2, inChannels: 4, outChannels: 4, channelMults: [1], attentionResolutions: [2] }),
      autoencoder: { config: ae.config, latentScale: s },
    };
    const l = await losses(config, pairedTensorData(tensorData(latents, [4, 2, 2]), lowResolutionConditions(hr, [1, 8, 8], 4, 2)));
    expect(avg(l.slice(-10)), l.map((v) => v.toFixed(2)).join(' ')).toBeLessThan(0.75 * avg(l.slice(0, 10)));
    ae.dispose();
  }, 120_000);
});
