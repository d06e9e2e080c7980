/**
 * Super-resolution measured on held-out images (docs/diffusion.md, "Evaluating the tasks"): each
 * high-resolution image is box-averaged by the model's factor, then enlarged back by bicubic
 * interpolation (the classical baseline) and by the model, and both are compared with the
 * original (PSNR, SSIM on 0…255). A latent model's autoencoder is also scored on its own —
 * decode(encode(image)) — since no latent model can beat the images its decoder can make.
 */
import { checkBatch, type ImageBatch } from '../../image/batch.js';
import { bicubicUpsample } from '../../image/resize.js';
import { ScoreAccumulator, type ImageScore } from './eval-metrics.js';
import { checkEvalOptions, checkImagesFit, firstImages, Progress, sampleAll, type TaskEvalOptions, type TaskModel } from './eval-sampling.js';
import { lowResolution, superResolutionCond, superResolutionScale } from './tasks.js';

export interface SuperResolutionEvalOptions extends TaskEvalOptions {
  /** Images to use from the start of the set (default all). */
  n?: number;
}

export interface SuperResolutionEval {
  n: number;
  scale: number;
  bicubic: ImageScore;
  model: ImageScore;
  /** A latent model's autoencoder alone (decode ∘ encode of the high-resolution image); null for a pixel model. */
  autoencoder: ImageScore | null;
  /** Sampling time (the model's whole pipeline, decoding included) per image. */
  secondsPerImage: number;
}

export async function evalSuperResolution(model: TaskModel, images: ImageBatch, opts: SuperResolutionEvalOptions = {}): Promise<SuperResolutionEval> {
  const op = 'evalSuperResolution';
  const scale = superResolutionScale(op, model.config);
  checkBatch(op, images, 'images');
  checkImagesFit(op, model, images);
  const hr = firstImages(op, images, opts.n);
  const o = checkEvalOptions(op, opts);
  const n = hr.shape[0];
  const lr = lowResolution(hr, scale);
  const cond = superResolutionCond(lr, model.condShape![1]);
  const bicubic = new ScoreAccumulator(), out = new ScoreAccumulator();
  bicubic.add(bicubicUpsample(lr, scale), hr);
  const { images: sr, seconds } = await sampleAll(model, cond, o, new Progress(n, opts.onBatch));
  out.add(sr, hr);
  return { n, scale, bicubic: bicubic.result(), model: out.result(), autoencoder: model.autoencoder ? await reconstructionScore(model, hr, o.batch) : null, secondsPerImage: seconds / n };
}

/** PSNR/SSIM of decode(encode(x)) against x, batch by batch. */
async function reconstructionScore(model: TaskModel, hr: ImageBatch, batch: number): Promise<ImageScore> {
  const ae = model.autoencoder!, engine = model.engine, [n, C, H, W] = hr.shape, per = C * H * W;
  await ae.prepare();
  const acc = new ScoreAccumulator();
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const target = hr.data.slice(start * per, (start + count) * per);
    const x = engine.tensor(target, [count, C, H, W]);
    try {
      const y = engine.noGrad(() => ae.reconstruct(x));
      try {
        acc.add({ data: (await y.data()).slice(0, count * per), shape: [count, C, H, W] }, { data: target, shape: [count, C, H, W] });
      } finally {
        y.dispose();
      }
    } finally {
      x.dispose();
    }
  }
  return acc.result();
}
