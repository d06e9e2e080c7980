/**
 * The sampling half of the task evaluations: an image-conditioned model run over a whole set of
 * conditions in batches, timed. Batch b is drawn with seed + b, as judgeSamples does, so a result
 * depends on the seed and the batch size only.
 */
import { checkSeed } from '../../data/rng.js';
import { describeValue, fail } from '../../engine/errors.js';
import type { ImageBatch } from '../../image/batch.js';
import type { DiffusionModel, DiffusionSampleOptions } from './diffusion-model.js';

/** What the evaluations need of a model (a DiffusionModel; tests give stand-ins). */
export type TaskModel = Pick<DiffusionModel, 'engine' | 'config' | 'imageShape' | 'condShape' | 'autoencoder' | 'sample' | 'inpaint'>;

export interface TaskEvalOptions extends Pick<DiffusionSampleOptions, 'steps' | 'eta' | 'method'> {
  /** Images sampled at once (default 50). */
  batch?: number;
  /** Seed of the first batch's sampler; batch b uses seed + b (default 0). The evaluations derive their degradation and mask seeds from it too. */
  seed?: number;
  /** After each batch: images done, images in all (summed over every pass an evaluation makes). */
  onBatch?: (done: number, total: number) => void;
  /** Passed to every sample call (progress over steps). */
  onStep?: (done: number, total: number) => void;
}

export interface CheckedEval {
  batch: number;
  seed: number;
  sampling: DiffusionSampleOptions;
}

export function checkEvalOptions(op: string, o: TaskEvalOptions): CheckedEval {
  if (o === null || typeof o !== 'object') fail(op, `options = ${describeValue(o)} must be an object`);
  const batch = o.batch ?? 50;
  if (typeof batch !== 'number' || !Number.isInteger(batch) || batch < 1) fail(op, `batch = ${describeValue(batch)} must be a positive integer`);
  const seed = checkSeed(op, o.seed ?? 0);
  const sampling: DiffusionSampleOptions = { output: 'data' };
  if (o.steps !== undefined) sampling.steps = o.steps;
  if (o.eta !== undefined) sampling.eta = o.eta;
  if (o.method !== undefined) sampling.method = o.method;
  if (o.onStep) sampling.onStep = o.onStep;
  return { batch, seed, sampling };
}

/** Counts images over an evaluation's passes for onBatch. */
export class Progress {
  private done = 0;
  constructor(private readonly total: number, private readonly onBatch?: (done: number, total: number) => void) {}
  add(count: number): void {
    this.done += count;
    this.onBatch?.(this.done, this.total);
  }
}

/**
 * The model's outputs (in [−1, 1], the model's image shape) for every condition of `cond`
 * ([n, c, S, S] as the model's condShape), and the seconds the sampling took.
 */
export async function sampleAll(model: TaskModel, cond: ImageBatch, o: CheckedEval, progress: Progress): Promise<{ images: ImageBatch; seconds: number }> {
  const [n, c, h, w] = cond.shape, per = c * h * w;
  const [C, H, W] = model.imageShape, outPer = C * H * W;
  const out = new Float32Array(n * outPer);
  let seconds = 0;
  for (let start = 0, b = 0; start < n; start += o.batch, b++) {
    const count = Math.min(o.batch, n - start);
    const t0 = performance.now();
    const x = await model.sample(count, { ...o.sampling, seed: o.seed + b, cond: cond.data.subarray(start * per, (start + count) * per) });
    try {
      out.set((await x.data()).subarray(0, count * outPer), start * outPer);
    } finally {
      x.dispose();
    }
    seconds += (performance.now() - t0) / 1000;
    progress.add(count);
  }
  return { images: { data: out, shape: [n, C, H, W] }, seconds };
}

/** The first n images of a set (n ≤ its size), or all of it. */
export function firstImages(op: string, img: ImageBatch, n: number | undefined): ImageBatch {
  const total = img.shape[0];
  if (n === undefined) return img;
  if (!Number.isInteger(n) || n < 1 || n > total) fail(op, `n = ${describeValue(n)} must be an integer from 1 to the ${total} images given`);
  const per = img.data.length / total;
  return { data: img.data.subarray(0, n * per), shape: [n, img.shape[1], img.shape[2], img.shape[3]] };
}

/** The model's image shape must be the images'. */
export function checkImagesFit(op: string, model: TaskModel, img: ImageBatch): void {
  const [C, H, W] = model.imageShape;
  const [, c, h, w] = img.shape;
  if (c !== C || h !== H || w !== W) fail(op, `the model makes ${C}×${H}×${W} images, the evaluation images are ${c}×${h}×${w}`);
}
