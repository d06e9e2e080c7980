import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { ImageBatch } from '../../src/image/batch.js';
import { degrade, DEGRADATION_KINDS } from '../../src/image/degrade/degrade.js';
import { randomDegradation } from '../../src/image/degrade/random.js';
import { unitToPixels } from '../../src/image/range.js';
import { bicubicUpsample, boxDownsample } from '../../src/image/resize.js';
import { ssim } from '../../src/image/ssim.js';
import { blurFill } from '../../src/models/diffusion/blur-fill.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { evalInpainting } from '../../src/models/diffusion/eval-inpaint.js';
import { MaskedAccumulator, ScoreAccumulator } from '../../src/models/diffusion/eval-metrics.js';
import { evalRestoration } from '../../src/models/diffusion/eval-restoration.js';
import type { TaskModel } from '../../src/models/diffusion/eval-sampling.js';
import { evalSuperResolution } from '../../src/models/diffusion/eval-sr.js';
import { maskedImageCond } from '../../src/models/diffusion/inpaint-cond.js';
import { maskCoverage, randomInpaintMask } from '../../src/models/diffusion/masks.js';
import type { DiffusionModelConfig, ImageConditioning } from '../../src/models/diffusion/schema.js';
import { inpaintingConditioner, lowResolutionConditions, restorationConditioner, superResolutionConditioner } from '../../src/train/conditioners/index.js';
import { blobs } from './autoencoder-fixtures.js';
import { randomizeOutput, tinyConfig } from './diffusion-fixtures.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

/** n smooth 1×16×16 images in [−1, 1] (SSIM needs at least 11×11). */
const images = (n: number, seed = 3, side = 16): ImageBatch => ({ data: blobs(n, [1, side, side], seed), shape: [n, 1, side, side] });

/** An image-conditioned config (16×16) whose UNet is never run by the stand-ins below. */
const conditioned = (conditioning: ImageConditioning): DiffusionModelConfig => {
  const c = tinyConfig(25, 0);
  return { ...c, unet: { ...c.unet, imageSize: 16, condChannels: conditioning.channels }, conditioning };
};

/**
 * A stand-in for a DiffusionModel whose sample returns the given images in order (the "perfect
 * model"), recording the conditions it was given and the seeds.
 */
function oracle(config: DiffusionModelConfig, answers: ImageBatch) {
  const [, C, H, W] = answers.shape, per = C * H * W, u = config.unet;
  let next = 0;
  const conds: number[] = [], seeds: number[] = [];
  const model = {
    engine, config, imageShape: [C, H, W] as [number, number, number], condShape: [u.condChannels!, u.imageSize, u.imageSize] as [number, number, number],
    autoencoder: null,
    sample: async (n: number, o: { cond?: ArrayLike<number>; seed?: number }) => {
      conds.push(...Array.from(o.cond!));
      seeds.push(o.seed!);
      const out = answers.data.slice(next * per, (next + n) * per);
      next = (next + n) % answers.shape[0];
      return engine.tensor(out, [n, C, H, W]);
    },
    inpaint: async () => { throw new Error('not used'); },
  } as unknown as TaskModel;
  return { model, conds, seeds };
}

/** PSNR of the pooled MSE on 0…255, computed here by hand. */
const pooledPsnr = (a: ImageBatch, b: ImageBatch) => {
  const pa = unitToPixels(a), pb = unitToPixels(b);
  let s = 0;
  for (let i = 0; i < pa.length; i++) s += (pa[i]! - pb[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (s / pa.length));
};
const pixels = (img: ImageBatch): ImageBatch => ({ data: unitToPixels(img), shape: img.shape });

describe('random inpainting masks', () => {
  it('are 0/1, cover 10–50 % of each image (about 30 % on average) and mix rectangles with brush strokes', () => {
    const n = 300, masks = randomInpaintMask(n, 28, 28, 11);
    expect(masks.every((v) => v === 0 || v === 1)).toBe(true);
    const cover = Array.from(maskCoverage(masks, n));
    expect(Math.min(...cover)).toBeGreaterThan(0.05);
    expect(Math.max(...cover)).toBeLessThanOrEqual(0.5);
    const mean = cover.reduce((a, b) => a + b, 0) / n;
    expect(mean).toBeGreaterThan(0.22);
    expect(mean).toBeLessThan(0.38);
    // Rectangles have sides of at least 15 % (4 px of 28), so every filled pixel lies in a filled 4×4 square;
    // brush strokes (2–5 px wide, slanted, rounded ends) leave pixels that do not.
    const outsideSquares = (m: Float32Array, count: number) => {
      let k = 0;
      const at = (i: number, y: number, x: number) => m[i * 784 + y * 28 + x]!;
      const full = (i: number, y0: number, x0: number) => {
        for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) if (!at(i, y, x)) return false;
        return true;
      };
      for (let i = 0; i < count; i++)
        for (let y = 0; y < 28; y++)
          for (let x = 0; x < 28; x++) {
            if (!at(i, y, x)) continue;
            let inSquare = false;
            for (let y0 = Math.max(0, y - 3); y0 <= Math.min(24, y) && !inSquare; y0++)
              for (let x0 = Math.max(0, x - 3); x0 <= Math.min(24, x) && !inSquare; x0++) inSquare = full(i, y0, x0);
            if (!inSquare) k++;
          }
      return k;
    };
    const rectsOnly = randomInpaintMask(50, 28, 28, 12, { rectangleShare: 1 }), strokesOnly = randomInpaintMask(50, 28, 28, 12, { rectangleShare: 0 });
    expect(outsideSquares(rectsOnly, 50)).toBe(0);
    expect(outsideSquares(strokesOnly, 50)).toBeGreaterThan(100);
  });

  it('are seeded per image: the same seed gives the same masks, and the first masks of a batch do not depend on its size', () => {
    const a = randomInpaintMask(4, 16, 16, 5), b = randomInpaintMask(4, 16, 16, 5), c = randomInpaintMask(2, 16, 16, 5);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a.subarray(0, 512))).toEqual(Array.from(c));
    expect(Array.from(randomInpaintMask(4, 16, 16, 6))).not.toEqual(Array.from(a));
  });

  it('refuses bad arguments in one line', () => {
    expect(() => randomInpaintMask(0, 8, 8, 1)).toThrow(/^randomInpaintMask: n = 0 must be a positive integer$/);
    expect(() => randomInpaintMask(1, 8, 8, 1, { minCover: 0.6, maxCover: 0.5 })).toThrow(/minCover = 0.6 is above maxCover = 0.5/);
    expect(() => randomInpaintMask(1, 8, 8, 1, { maxCover: 2 })).toThrow(/maxCover = 2 must be a number from 0 to 1/);
  });
});

describe('the tasks\' conditioners make the conditions the library functions describe', () => {
  const hr = images(3);
  const targets = hr.data;
  it('super-resolution: bicubic(box-average(x)); latent conditions: the LR image itself at the latent\'s side', () => {
    const c = superResolutionConditioner([1, 16, 16], 4);
    expect(c.shape).toEqual([1, 16, 16]);
    expect(Array.from(c.make([0, 1, 2], targets, new Rng(1)))).toEqual(Array.from(bicubicUpsample(boxDownsample(hr, 4), 4).data));
    const fixed = lowResolutionConditions(targets, [1, 16, 16], 4, 4);
    expect(fixed.shape).toEqual([1, 4, 4]);
    expect(Array.from(fixed.values([0, 1, 2]))).toEqual(Array.from(boxDownsample(hr, 4).data));
    expect(() => superResolutionConditioner([1, 16, 16], 3)).toThrow(/scale 3 must be an integer ≥ 2 dividing the 16×16 images/);
  });

  it('restoration: randomDegradation of the targets with the run\'s RNG (one kind: a specialist)', () => {
    for (const kinds of [[...DEGRADATION_KINDS], ['gaussian-noise' as const]]) {
      const rng = new Rng(9), copy = Rng.fromState(rng.state());
      const out = restorationConditioner([1, 16, 16], kinds).make([0, 1, 2], targets, rng);
      expect(Array.from(out)).toEqual(Array.from(randomDegradation(hr, copy, { kinds }).image.data));
      expect(rng.state()).toEqual(copy.state());
    }
  });

  it('inpainting: concat(masked target, mask) with a random mask from the run\'s RNG', () => {
    const rng = new Rng(4), copy = Rng.fromState(rng.state());
    const c = inpaintingConditioner([1, 16, 16]);
    expect(c.shape).toEqual([2, 16, 16]);
    const out = c.make([0, 1, 2], targets, rng);
    expect(Array.from(out)).toEqual(Array.from(maskedImageCond(targets, randomInpaintMask(3, 16, 16, copy), [3, 1, 16, 16])));
  });
});

describe('blur fill (the inpainting baseline)', () => {
  it('keeps the known pixels, fills a constant image with the constant and an interior hole of a linear ramp with the ramp', () => {
    const side = 16, ramp = new Float32Array(side * side), mask = new Float32Array(side * side);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) ramp[y * side + x] = -0.8 + 0.1 * x + 0.02 * y;
    for (let y = 5; y < 11; y++) for (let x = 4; x < 12; x++) mask[y * side + x] = 1;
    const out = blurFill({ data: ramp, shape: [1, 1, side, side] }, mask, { tolerance: 1e-7 });
    let err = 0;
    for (let k = 0; k < ramp.length; k++) {
      if (!mask[k]) expect(out.data[k]).toBe(ramp[k]);
      else err = Math.max(err, Math.abs(out.data[k]! - ramp[k]!));
    }
    expect(err).toBeLessThan(1e-4);
    const flat = blurFill({ data: new Float32Array(side * side).fill(0.25), shape: [1, 1, side, side] }, mask);
    expect(Math.max(...Array.from(flat.data, (v) => Math.abs(v - 0.25)))).toBeLessThan(1e-6);
  });
});

describe('the evaluation measures', () => {
  it('PSNR/SSIM on 0…255: identical sets give +∞ and 1; a constant offset of δ pixels gives 10 log10(255²/δ²)', () => {
    const a = images(2), acc = new ScoreAccumulator();
    acc.add(a, a);
    expect(acc.result()).toEqual({ psnr: Infinity, ssim: 1 });
    const dark: ImageBatch = { data: new Float32Array(512).fill(-0.5), shape: [2, 1, 16, 16] };
    const darker: ImageBatch = { data: new Float32Array(512).fill(-0.5 - 10 / 127.5), shape: [2, 1, 16, 16] };
    const off = new ScoreAccumulator();
    off.add(darker, dark);
    expect(off.result().psnr).toBeCloseTo(10 * Math.log10(255 ** 2 / 100), 4);
  });

  it('inside and outside a mask: PSNR over the masked values only, the largest change of the known ones', () => {
    const t: ImageBatch = { data: new Float32Array(2 * 256), shape: [1, 2, 16, 16] };
    const o: ImageBatch = { data: new Float32Array(2 * 256), shape: [1, 2, 16, 16] };
    const mask = new Float32Array(256);
    mask.fill(1, 0, 64);
    for (let p = 0; p < 64; p++) { o.data[p] = 20 / 127.5; o.data[256 + p] = -20 / 127.5; }
    o.data[100] = 0.25;
    const acc = new MaskedAccumulator();
    acc.add(o, t, mask);
    const r = acc.result();
    expect(r.psnr).toBeCloseTo(10 * Math.log10(255 ** 2 / 400), 3);
    expect(r.knownMaxChange).toBeCloseTo(0.25, 7);
    expect(r.coverage).toBe(0.25);
  });

  it('super-resolution: a model that returns the original scores +∞ / 1; bicubic is src/image\'s bicubic of the box average, and the model got that LR image', async () => {
    const hr = images(5);
    const { model, conds, seeds } = oracle(conditioned({ kind: 'image', channels: 1, task: 'super-resolution', scale: 4 }), hr);
    const r = await evalSuperResolution(model, hr, { batch: 2, seed: 7 });
    expect(r.model).toEqual({ psnr: Infinity, ssim: 1 });
    const bic = bicubicUpsample(boxDownsample(hr, 4), 4);
    expect(r.bicubic.psnr).toBeCloseTo(pooledPsnr(bic, hr), 10);
    expect(r.bicubic.ssim).toBeCloseTo(ssim(pixels(bic), pixels(hr), 255), 10);
    expect(r.bicubic.psnr).toBeLessThan(40);
    expect(conds).toEqual(Array.from(bic.data));
    expect(seeds).toEqual([7, 8, 9]);
    expect(r.n).toBe(5);
    expect(r.autoencoder).toBeNull();
    await expect(evalSuperResolution(oracle(conditioned({ kind: 'image', channels: 1, task: 'restoration' }), hr).model, hr)).rejects.toThrow(/^evalSuperResolution: the model is not a super-resolution model \(its conditioning task is restoration\)$/);
    await expect(evalSuperResolution(model, images(2, 3, 8))).rejects.toThrow(/the model makes 1×16×16 images, the evaluation images are 1×8×8/);
  });

  it('restoration: the degraded input scored per kind; the same degraded images whichever kinds are measured; a perfect model +∞', async () => {
    const clean = images(4);
    const { model, conds } = oracle(conditioned({ kind: 'image', channels: 1, task: 'restoration', degradations: ['defocus-blur', 'gaussian-noise'] }), clean);
    const r = await evalRestoration(model, clean, { seed: 3 });
    expect(r.rows.map((x) => x.degradation)).toEqual(['defocus-blur', 'gaussian-noise', 'mixture']);
    expect(r.mixtureKinds).toEqual(['defocus-blur', 'gaussian-noise']);
    for (const row of r.rows) expect(row.model).toEqual({ psnr: Infinity, ssim: 1 });
    const blurred = degrade(clean, 'defocus-blur', 0.5, 0);
    expect(r.rows[0]!.input.psnr).toBeCloseTo(pooledPsnr(blurred, clean), 10);
    expect(conds.slice(0, blurred.data.length)).toEqual(Array.from(blurred.data));
    const noisyAll = conds.slice(blurred.data.length, 2 * blurred.data.length);
    const alone = oracle(conditioned({ kind: 'image', channels: 1, task: 'restoration' }), clean);
    const one = await evalRestoration(alone.model, clean, { seed: 3, kinds: ['gaussian-noise'], mixture: false });
    expect(one.rows.map((x) => x.degradation)).toEqual(['gaussian-noise']);
    expect(alone.conds).toEqual(noisyAll);
    expect(one.rows[0]!.input).toEqual(r.rows[1]!.input);
    await expect(evalRestoration(model, clean, { strength: 0 })).rejects.toThrow(/strength = 0 must be a number above 0, at most 1/);
  });

  it('mask-conditioned inpainting: the model sees concat(masked image, mask); a perfect model +∞ and no change outside; blur fill scored inside the mask', async () => {
    const img = images(3);
    const { model, conds } = oracle(conditioned({ kind: 'image', channels: 2, task: 'inpainting' }), img);
    const r = await evalInpainting(model, img, { seed: 1 });
    expect(r.method).toBe('mask-conditioned');
    expect(r.model).toEqual({ psnr: Infinity, knownMaxChange: 0 });
    const masks = Float32Array.from(conds.filter((_, k) => Math.floor(k / 256) % 2 === 1));
    expect(Array.from(maskCoverage(masks, 3)).every((c) => c >= 0.05 && c <= 0.5)).toBe(true);
    expect(conds).toEqual(Array.from(maskedImageCond(img.data, masks, [3, 1, 16, 16])));
    const acc = new MaskedAccumulator();
    acc.add(blurFill(img, masks), img, masks);
    expect(r.blurFill.psnr).toBeCloseTo(acc.result().psnr, 10);
    expect(r.blurFill.psnr).toBeLessThan(60);
  });

  it('RePaint with an unconditional model keeps the known pixels to 1e-6 and is measured against blur fill', async () => {
    const config = tinyConfig(25, 0);
    const m = new DiffusionModel(engine, config, { seed: 2 });
    randomizeOutput(m);
    const img: ImageBatch = { data: blobs(2, [1, 8, 8], 5), shape: [2, 1, 8, 8] };
    const r = await evalInpainting(m, img, { steps: 4, jumpLength: 2, resampleCount: 2, batch: 1 });
    expect(r.method).toBe('repaint');
    expect(r.model.knownMaxChange).toBeLessThanOrEqual(1e-6);
    expect(Number.isFinite(r.model.psnr)).toBe(true);
    expect(Number.isFinite(r.blurFill.psnr)).toBe(true);
    m.dispose();
  });
});
