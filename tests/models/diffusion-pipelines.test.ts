import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { buildAutoencoder } from '../../src/models/autoencoder/autoencoder-bytes.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { maskedImageCond } from '../../src/models/diffusion/inpaint-cond.js';
import { inpaint, lowResolutionFor, restore, toChannels, upscale, type PixelImages } from '../../src/models/diffusion/pipelines.js';
import type { DiffusionModelConfig, ImageConditioning } from '../../src/models/diffusion/schema.js';
import { superResolutionConditioner } from '../../src/train/conditioners/index.js';
import { blobs, tinyVae } from './autoencoder-fixtures.js';
import { randomizeOutput, tinyConfig } from './diffusion-fixtures.js';

let engine: Engine;
const made: DiffusionModel[] = [];
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => {
  for (const m of made) m.dispose();
  engine.dispose();
});

/** A never-trained 1×8×8 model with random output layers (so the condition, the seed and every step count). */
function model(conditioning?: ImageConditioning, classes = 0): DiffusionModel {
  const c = tinyConfig(25, classes);
  const config: DiffusionModelConfig = { ...c, unet: { ...c.unet, ...(conditioning ? { condChannels: conditioning.channels } : {}) }, ...(conditioning ? { conditioning } : {}) };
  const m = new DiffusionModel(engine, config, { seed: 1 });
  randomizeOutput(m);
  made.push(m);
  return m;
}

const SR: ImageConditioning = { kind: 'image', channels: 1, task: 'super-resolution', scale: 4 };
const RESTORE: ImageConditioning = { kind: 'image', channels: 1, task: 'restoration', degradations: ['gaussian-noise'] };
const INPAINT: ImageConditioning = { kind: 'image', channels: 2, task: 'inpainting' };

/** n smooth 1×8×8 images as 0…255 pixels (whole numbers, as read from a PNG). */
const pixels = (n: number, seed = 3, side = 8): PixelImages =>
  ({ data: Float32Array.from(blobs(n, [1, side, side], seed), (v) => Math.round((v + 1) * 127.5)), shape: [n, 1, side, side] });

const values = async (t: Tensor): Promise<Float32Array> => {
  const v = (await t.data()).slice(0, t.size);
  t.dispose();
  return v;
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('upscale', () => {
  it("builds the condition exactly as the trainer's conditioner and samples with it", async () => {
    const m = model(SR);
    const hr = pixels(2);
    const lr = lowResolutionFor(m, hr);
    expect(lr.shape).toEqual([2, 1, 2, 2]);
    const out = await upscale(m, lr, { steps: 4, seed: 7 });
    expect(out.shape).toEqual([2, 1, 8, 8]);
    const unit = Float32Array.from(hr.data, (p) => p / 127.5 - 1);
    const cond = superResolutionConditioner([1, 8, 8], 4).make([0, 1], unit, new Rng(0));
    const direct = await values(await m.sample(2, { steps: 4, seed: 7, cond }));
    expect(maxDiff(out.data, direct)).toBeLessThan(1e-3);
    expect(out.data.every((v) => v >= 0 && v <= 255)).toBe(true);
    // The same seed gives the same image; another seed another one.
    expect(Array.from((await upscale(m, lr, { steps: 4, seed: 7 })).data)).toEqual(Array.from(out.data));
    expect(maxDiff((await upscale(m, lr, { steps: 4, seed: 8 })).data, out.data)).toBeGreaterThan(1);
  });

  it('a latent model: the LR image at the latent side is the condition as it is; samples are decoded images', async () => {
    const ae = buildAutoencoder(engine, tinyVae(), { seed: 4 });
    const c = tinyConfig(25, 0);
    const m = new DiffusionModel(engine, {
      ...c, unet: { ...c.unet, imageSize: 2, inChannels: 4, outChannels: 4, channelMults: [1], attentionResolutions: [2], condChannels: 1 },
      conditioning: SR, autoencoder: { config: ae.config, latentScale: 0.8 },
    }, { seed: 2, autoencoder: ae });
    randomizeOutput(m);
    made.push(m);
    const lr = lowResolutionFor(m, pixels(1, 5));
    const out = await upscale(m, lr, { steps: 3, seed: 1 });
    expect(out.shape).toEqual([1, 1, 8, 8]);
    const direct = await values(await m.sample(1, { steps: 3, seed: 1, cond: Float32Array.from(lr.data, (p) => p / 127.5 - 1) }));
    expect(maxDiff(out.data, direct)).toBeLessThan(1e-3);
  });

  it('colour input to a grey model is its luma; grey input to a colour model is repeated', async () => {
    const m = model(SR);
    const grey = lowResolutionFor(m, pixels(1));
    const rgb: PixelImages = { data: Float32Array.from({ length: 12 }, (_, i) => grey.data[i % 4]!), shape: [1, 3, 2, 2] };
    expect(Array.from((await upscale(m, rgb, { steps: 2 })).data)).toEqual(Array.from((await upscale(m, grey, { steps: 2 })).data));
    const tinted = toChannels('t', { data: [10, 20, 30], shape: [1, 3, 1, 1] }, 1);
    expect(tinted.data[0]).toBeCloseTo(0.299 * 10 + 0.587 * 20 + 0.114 * 30, 4);
    expect(Array.from(toChannels('t', { data: [7, 9], shape: [1, 1, 1, 2] }, 3).data)).toEqual([7, 9, 7, 9, 7, 9]);
  });

  it('bad arguments are one line naming them', async () => {
    const m = model(SR);
    const lr = lowResolutionFor(m, pixels(1));
    await expect(upscale(m, pixels(1))).rejects.toThrow(/^upscale: the image is 8×8 pixels; this ×4 model takes 2×2 images and makes 8×8$/);
    await expect(upscale(model(RESTORE), lr)).rejects.toThrow(/^upscale: the model is not a super-resolution model \(its conditioning task is restoration\)$/);
    await expect(upscale(m, lr, { steps: 0 })).rejects.toThrow(/^upscale: steps = 0 must be an integer from 1 to 25/);
    await expect(upscale(m, lr, { steps: 1.5 })).rejects.toThrow(/steps = 1.5 must be an integer/);
    await expect(upscale(m, lr, { seed: -1 })).rejects.toThrow(/^upscale: seed = -1 must be an integer/);
    await expect(upscale(m, lr, { eta: 2 })).rejects.toThrow(/^upscale: eta = 2 must be a number from 0 to 1$/);
    await expect(upscale(m, lr, { method: 'euler' as 'ddim' })).rejects.toThrow(/^upscale: method = "euler" must be 'ddim' or 'ddpm'$/);
    await expect(upscale(m, lr, { temperature: 1 } as object)).rejects.toThrow(/^upscale: unknown option "temperature"/);
    await expect(upscale(m, lr, { labels: [1] })).rejects.toThrow(/^upscale: labels was given but the model is not class-conditional$/);
    await expect(upscale(m, { data: [0, 0, 0, 300], shape: [1, 1, 2, 2] })).rejects.toThrow(/^upscale: image\[3\] = 300 is not a pixel value from 0 to 255$/);
    await expect(upscale(m, { data: [0, 0, 0, NaN], shape: [1, 1, 2, 2] })).rejects.toThrow(/image\[3\] = NaN is not a pixel value/);
    await expect(upscale(m, { data: [0, 0, 0], shape: [1, 1, 2, 2] })).rejects.toThrow(/^upscale: image has 3 values, but shape \[1, 1, 2, 2\] needs 4$/);
    await expect(upscale(m, { data: new Float32Array(8), shape: [1, 2, 2, 2] })).rejects.toThrow(/^upscale: image has 2 channels; give grey \(1\) or RGB \(3\) pixels$/);
    await expect(upscale(m, new Float32Array(4) as unknown as PixelImages)).rejects.toThrow(/^upscale: image = a Float32Array must be \{ data: pixels 0…255, shape: \[N, C, H, W\] \}$/);
    await expect(upscale({} as DiffusionModel, lr)).rejects.toThrow(/^upscale: model = an object must be a DiffusionModel/);
  });
});

describe('restore', () => {
  it('samples with the degraded image as the condition', async () => {
    const m = model(RESTORE);
    const img = pixels(2, 9);
    const out = await restore(m, img, { steps: 3, seed: 2 });
    expect(out.shape).toEqual([2, 1, 8, 8]);
    const direct = await values(await m.sample(2, { steps: 3, seed: 2, cond: Float32Array.from(img.data, (p) => p / 127.5 - 1) }));
    expect(maxDiff(out.data, direct)).toBeLessThan(1e-3);
  });

  it('refuses another kind of model and another size', async () => {
    await expect(restore(model(SR), pixels(1))).rejects.toThrow(/^restore: the model is not a restoration model \(it is a super-resolution model\)$/);
    await expect(restore(model(), pixels(1))).rejects.toThrow(/^restore: the model is not a restoration model \(it is an unconditional generation model\)$/);
    await expect(restore(model(RESTORE), pixels(1, 3, 16))).rejects.toThrow(/^restore: the image is 16×16 pixels; the model restores 8×8 images$/);
  });
});

describe('inpaint', () => {
  /** A mask with the left half white (fill). */
  const mask = (n = 1): PixelImages => ({ data: Float32Array.from({ length: n * 64 }, (_, i) => (i % 8 < 4 ? 255 : 0)), shape: [n, 1, 8, 8] });

  it('mask-conditioned: the condition is maskedImageCond; the known pixels come back as given', async () => {
    const m = model(INPAINT);
    const img = pixels(2, 4);
    const out = await inpaint(m, img, mask(2), { steps: 3, seed: 5 });
    expect(out.method).toBe('mask-conditioned');
    expect(out.shape).toEqual([2, 1, 8, 8]);
    const unit = Float32Array.from(img.data, (p) => p / 127.5 - 1);
    const fill = Float32Array.from(mask(2).data, (v) => (v >= 128 ? 1 : 0));
    const direct = await values(await m.sample(2, { steps: 3, seed: 5, cond: maskedImageCond(unit, fill, [2, 1, 8, 8]) }));
    let known = 0, filled = 0;
    for (let i = 0; i < 128; i++) {
      if (fill[i]) {
        expect(Math.abs(out.data[i]! - direct[i]!)).toBeLessThan(1e-3);
        filled += Math.abs(out.data[i]! - img.data[i]!);
      } else {
        expect(out.data[i]).toBe(img.data[i]);
        known++;
      }
    }
    expect(known).toBe(64);
    // The untrained model's fill is not the image.
    expect(filled).toBeGreaterThan(1);
  });

  it('RePaint with an unconditional model: known pixels exact, options reach the resampling, seeds decide', async () => {
    const m = model();
    const img = pixels(1, 6);
    const a = await inpaint(m, img, mask(), { steps: 4, seed: 1, jumpLength: 1, resampleCount: 1 });
    expect(a.method).toBe('repaint');
    const steps: number[] = [];
    const b = await inpaint(m, img, mask(), { steps: 4, seed: 1, jumpLength: 1, resampleCount: 3, onStep: (d, t) => steps.push(t) });
    // S + (r − 1) · j · ⌊(S − 1)/j⌋ = 4 + 2 · 1 · 3 denoiser calls.
    expect(steps.at(-1)).toBe(10);
    const direct = await values(await m.inpaint(Float32Array.from(img.data, (p) => p / 127.5 - 1), Float32Array.from(mask().data, (v) => v / 255),
      { steps: 4, seed: 1, jumpLength: 1, resampleCount: 3 }));
    expect(maxDiff(b.data, direct)).toBeLessThan(1e-3);
    expect(maxDiff(a.data, b.data)).toBeGreaterThan(0.5);
    for (let i = 0; i < 64; i++) if (i % 8 >= 4) expect(b.data[i]).toBe(img.data[i]);
    expect(Array.from((await inpaint(m, img, mask(), { steps: 4, seed: 1, jumpLength: 1, resampleCount: 3 })).data)).toEqual(Array.from(b.data));
  });

  it('RePaint with a class-conditional model runs unconditioned unless labels are given; one mask serves a batch', async () => {
    const m = model(undefined, 3);
    const img = pixels(2, 8);
    const free = await inpaint(m, img, mask(1), { steps: 3, seed: 2, resampleCount: 1 });
    const none = await values(await m.inpaint(Float32Array.from(img.data, (p) => p / 127.5 - 1), Float32Array.from(mask(2).data, (v) => v / 255),
      { steps: 3, seed: 2, resampleCount: 1, guidance: 0, output: 'pixels' }));
    expect(maxDiff(free.data, none)).toBeLessThan(1e-3);
    const two = await inpaint(m, img, mask(1), { steps: 3, seed: 2, resampleCount: 1, labels: [2], guidance: 1 });
    expect(maxDiff(two.data, free.data)).toBeGreaterThan(0.5);
  });

  it('bad masks, models and options are one line', async () => {
    const img = pixels(1);
    const m = model();
    await expect(inpaint(m, img, { data: new Float32Array(36), shape: [1, 1, 6, 6] })).rejects.toThrow(/^inpaint: the mask is 6×6 pixels, the image 8×8$/);
    await expect(inpaint(m, img, { data: new Float32Array(64), shape: [1, 1, 8, 8] })).rejects.toThrow(/^inpaint: the mask marks no pixel to fill: white \(≥ 128\) is filled and black kept/);
    await expect(inpaint(m, img, { data: new Float32Array(64).fill(1), shape: [1, 1, 8, 8] })).rejects.toThrow(/a 0\/1 mask must be scaled to 0\/255/);
    await expect(inpaint(m, img, { data: new Float32Array(192), shape: [1, 3, 8, 8] })).rejects.toThrow(/^inpaint: mask shape an array of 4 must be \[1, 1, 8, 8\]/);
    await expect(inpaint(m, img, undefined as unknown as PixelImages)).rejects.toThrow(/^inpaint: mask = missing must be/);
    await expect(inpaint(m, pixels(1, 3, 16), mask())).rejects.toThrow(/^inpaint: the image is 16×16 pixels; the model fills 8×8 images$/);
    await expect(inpaint(model(SR), img, mask())).rejects.toThrow(/^inpaint: the model is a super-resolution model: inpainting needs a mask-conditioned/);
    await expect(inpaint(model(INPAINT), img, mask(), { resampleCount: 2 })).rejects.toThrow(/^inpaint: jumpLength and resampleCount are RePaint's/);
    await expect(inpaint(m, img, mask(), { steps: 4, jumpLength: 4 })).rejects.toThrow(/^inpaint: jumpLength = 4 must be below steps \(4\) to resample/);
    await expect(inpaint(m, img, mask(), { resampleCount: 0 })).rejects.toThrow(/^inpaint: resampleCount = 0 must be an integer from 1 to 100/);
    await expect(inpaint(m, img, mask(), { steps: 26 })).rejects.toThrow(/^inpaint: steps = 26 must be an integer from 1 to 25/);
  });
});
