/**
 * Inpainting measured on held-out images (docs/diffusion.md, "Evaluating the tasks"): random
 * masks (masks.ts, seeded from the evaluation's seed) are filled by the model — a mask-conditioned
 * model from concat(masked image, mask), any other pixel model by RePaint — and by the blur-fill
 * baseline (blur-fill.ts). Reported: PSNR inside the mask (0…255) of both, and how far the model's
 * output moved the known pixels (RePaint keeps them exactly; a mask-conditioned model only learns to).
 */
import { describeValue, fail } from '../../engine/errors.js';
import { checkBatch, type ImageBatch } from '../../image/batch.js';
import { blurFill } from './blur-fill.js';
import { MaskedAccumulator } from './eval-metrics.js';
import { checkEvalOptions, checkImagesFit, firstImages, Progress, sampleAll, type TaskEvalOptions, type TaskModel } from './eval-sampling.js';
import { maskedImageCond } from './inpaint-cond.js';
import { randomInpaintMask, type MaskOptions } from './masks.js';

export interface InpaintingEvalOptions extends TaskEvalOptions {
  n?: number;
  /** The masks' shares (default: the training masks', 10…50 %). */
  mask?: MaskOptions;
  /** RePaint only (models not trained for inpainting): positions per jump and passes per jump point (defaults: inpaint's). */
  jumpLength?: number;
  resampleCount?: number;
  /** RePaint with a class-conditional model: each image's class (e.g. the held-out digits' own), with `guidance`. */
  labels?: ArrayLike<number>;
  guidance?: number;
}

export interface InpaintingEval {
  /** 'mask-conditioned': the model was trained for it; 'repaint': any pixel model through RePaint. */
  method: 'mask-conditioned' | 'repaint';
  n: number;
  /** Mean share of the pixels the masks ask to fill. */
  coverage: number;
  /** PSNR inside the mask and the largest change of a known pixel ([−1, 1] units). */
  model: { psnr: number; knownMaxChange: number };
  blurFill: { psnr: number };
  secondsPerImage: number;
}

/** The masks' seed, apart from the sampler's seed + b. */
const maskSeed = (seed: number): number => (seed ^ 0x5bd1e995) >>> 0;

export async function evalInpainting(model: TaskModel, images: ImageBatch, opts: InpaintingEvalOptions = {}): Promise<InpaintingEval> {
  const op = 'evalInpainting';
  checkBatch(op, images, 'images');
  checkImagesFit(op, model, images);
  const c = model.config.conditioning;
  if (model.autoencoder) fail(op, 'the model is a latent model: inpainting is measured on pixel models');
  const conditioned = c?.task === 'inpainting';
  if (c && !conditioned) fail(op, `the model is a ${c.task} model: RePaint needs a model of the images alone (unconditional or class-conditional), and mask-conditioned inpainting a model trained for it`);
  const img = firstImages(op, images, opts.n);
  const o = checkEvalOptions(op, opts);
  const [n, C, H, W] = img.shape;
  const masks = randomInpaintMask(n, H, W, maskSeed(o.seed), opts.mask ?? {});
  const progress = new Progress(n, opts.onBatch);
  let filled: ImageBatch, seconds: number;
  if (conditioned) {
    if (model.condShape![0] !== C + 1) fail(op, `a mask-conditioned model of ${C}-channel images takes ${C + 1} condition channels (image and mask), this one ${model.condShape![0]}`);
    ({ images: filled, seconds } = await sampleAll(model, { data: maskedImageCond(img.data, masks, [n, C, H, W]), shape: [n, C + 1, H, W] }, o, progress));
  } else {
    ({ images: filled, seconds } = await repaintAll(model, img, masks, opts, o, progress));
  }
  const ours = new MaskedAccumulator(), base = new MaskedAccumulator();
  ours.add(filled, img, masks);
  base.add(blurFill(img, masks), img, masks);
  const r = ours.result();
  return {
    method: conditioned ? 'mask-conditioned' : 'repaint', n, coverage: r.coverage,
    model: { psnr: r.psnr, knownMaxChange: r.knownMaxChange }, blurFill: { psnr: base.result().psnr }, secondsPerImage: seconds / n,
  };
}

async function repaintAll(model: TaskModel, img: ImageBatch, masks: Float32Array, opts: InpaintingEvalOptions, o: ReturnType<typeof checkEvalOptions>,
  progress: Progress): Promise<{ images: ImageBatch; seconds: number }> {
  const [n, C, H, W] = img.shape, per = C * H * W, plane = H * W;
  if (opts.labels !== undefined && (!opts.labels || typeof opts.labels.length !== 'number' || opts.labels.length < n))
    fail('evalInpainting', `labels = ${describeValue(opts.labels)} must give one class for each of the ${n} images`);
  const out = new Float32Array(n * per);
  let seconds = 0;
  for (let start = 0, b = 0; start < n; start += o.batch, b++) {
    const count = Math.min(o.batch, n - start);
    const t0 = performance.now();
    const x = await model.inpaint(img.data.subarray(start * per, (start + count) * per), masks.subarray(start * plane, (start + count) * plane), {
      ...o.sampling, seed: o.seed + b,
      ...(opts.jumpLength !== undefined ? { jumpLength: opts.jumpLength } : {}),
      ...(opts.resampleCount !== undefined ? { resampleCount: opts.resampleCount } : {}),
      ...(opts.labels !== undefined ? { labels: Array.from(opts.labels).slice(start, start + count) } : {}),
      ...(opts.guidance !== undefined ? { guidance: opts.guidance } : {}),
    });
    try {
      out.set((await x.data()).subarray(0, count * per), start * per);
    } finally {
      x.dispose();
    }
    seconds += (performance.now() - t0) / 1000;
    progress.add(count);
  }
  return { images: { data: out, shape: [n, C, H, W] }, seconds };
}
