import { batchValues, type ImageDataset } from '../../data/dataset.js';
import { fail } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { slice } from '../../ops/index.js';
import type { DigitClassifier } from '../classifier.js';
import { FeatureAccumulator, type FeatureStats } from '../frechet.js';
import type { Engine } from '../../engine/engine.js';
import type { DiffusionSampleOptions } from './diffusion-model.js';

/**
 * What judgeSamples draws from: a DiffusionModel as it is, or a flow wrapped to take labels and a
 * seed (bench/quality.ts), so both kinds are judged by the same code.
 */
export interface LabelledSampler {
  readonly engine: Engine;
  readonly classes: number;
  readonly imageShape: [number, number, number];
  sample(n: number, opts: DiffusionSampleOptions & { labels: ArrayLike<number>; seed: number }): Promise<Tensor>;
}

export interface JudgeOptions extends Pick<DiffusionSampleOptions, 'steps' | 'eta' | 'guidance' | 'method'> {
  /** Samples in all (default 1000): n / classes of each class, in order 0, 1, …, classes − 1, 0, …. */
  n?: number;
  /** Images sampled at once (default 50; guidance runs twice as many through the UNet). */
  batch?: number;
  /** Seed of the first batch; batch b uses seed + b (default 0). */
  seed?: number;
  /** Probability the classifier must give the sample's class (default 0.9). */
  threshold?: number;
  /** After each batch: images done, images in all. */
  onBatch?: (done: number, total: number) => void;
  /** Passed to every batch's sample call (progress over steps). */
  onStep?: (done: number, total: number) => void;
}

export interface JudgeResult {
  n: number;
  /** Samples classified as the class they were drawn for, with probability ≥ threshold. */
  right: number;
  /** Samples classified as any class with probability ≥ threshold. */
  confident: number;
  /** Per class: [right, drawn]. */
  perClass: Array<[number, number]>;
  /** Gaussian fit of the samples in the classifier's feature space (DigitClassifier.features), for the FID proxy. */
  features: FeatureStats;
  seconds: number;
}

/**
 * How recognisable class-conditional samples are to a digit classifier: n samples, the classes
 * cycled, each judged right when the classifier's most probable class is the one it was drawn for
 * with probability ≥ threshold (the bundled flow is judged the same way: README, "The bundled
 * models"). A model larger than the classifier's input (MNIST padded to 32×32) is cropped at the
 * centre.
 */
export async function judgeSamples(model: LabelledSampler, classifier: DigitClassifier, opts: JudgeOptions = {}): Promise<JudgeResult> {
  const classes = model.classes;
  if (!classes) fail('judgeSamples', 'the model is unconditional: class-conditional samples need a model trained with classes');
  if (classifier.config.classes < classes) fail('judgeSamples', `the classifier knows ${classifier.config.classes} classes, the model ${classes}`);
  const [C, S] = model.imageShape;
  const [cc, ch, cw] = classifier.config.inputShape;
  if (cc !== C || ch > S || cw > S) fail('judgeSamples', `the classifier takes ${cc}×${ch}×${cw} images, the model draws ${C}×${S}×${S}`);
  const n = opts.n ?? 1000, batch = Math.min(opts.batch ?? 50, n), threshold = opts.threshold ?? 0.9, seed = opts.seed ?? 0;
  const perClass: Array<[number, number]> = Array.from({ length: classes }, () => [0, 0]);
  let right = 0, confident = 0;
  const t0 = performance.now();
  const engine = model.engine;
  const features = new FeatureAccumulator(classifier.config.widths[2]);
  for (let start = 0, b = 0; start < n; start += batch, b++) {
    const count = Math.min(batch, n - start);
    const labels = Array.from({ length: count }, (_, i) => (start + i) % classes);
    const x = await model.sample(count, {
      labels, seed: seed + b, ...pick(opts), ...(opts.onStep ? { onStep: opts.onStep } : {}),
    });
    let crop: Tensor = x;
    if (ch !== S || cw !== S) {
      const top = (S - ch) >> 1, left = (S - cw) >> 1;
      crop = engine.scope(() => slice(slice(x, 2, top, ch), 3, left, cw));
    }
    const probs = await classifier.predict(crop);
    features.add(await hostRows(classifier, crop));
    if (crop !== x) crop.dispose();
    x.dispose();
    probs.forEach((p, i) => {
      let best = 0;
      for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
      const y = labels[i]!;
      perClass[y]![1]++;
      if (p[best]! >= threshold) {
        confident++;
        if (best === y) {
          right++;
          perClass[y]![0]++;
        }
      }
    });
    opts.onBatch?.(start + count, n);
  }
  return { n, right, confident, perClass, features: features.stats(), seconds: (performance.now() - t0) / 1000 };
}

async function hostRows(classifier: DigitClassifier, pixels: Tensor): Promise<Float32Array> {
  const f = classifier.features(pixels);
  try {
    return await f.data();
  } finally {
    f.dispose();
  }
}

/** The classifier-feature Gaussian of real digits (e.g. the held-out ones), the reference of the FID proxy. */
export async function digitFeatureStats(classifier: DigitClassifier, digits: ImageDataset, batch = 250): Promise<FeatureStats> {
  const acc = new FeatureAccumulator(classifier.config.widths[2]);
  const engine = classifier.engine;
  for (let start = 0; start < digits.count; start += batch) {
    const idx = Array.from({ length: Math.min(batch, digits.count - start) }, (_, i) => start + i);
    const x = engine.tensor(batchValues(digits, idx), [idx.length, ...digits.shape]);
    try {
      acc.add(await hostRows(classifier, x));
    } finally {
      x.dispose();
    }
  }
  return acc.stats();
}

const pick = (o: JudgeOptions): DiffusionSampleOptions => {
  const out: DiffusionSampleOptions = {};
  if (o.steps !== undefined) out.steps = o.steps;
  if (o.eta !== undefined) out.eta = o.eta;
  if (o.guidance !== undefined) out.guidance = o.guidance;
  if (o.method !== undefined) out.method = o.method;
  return out;
};
