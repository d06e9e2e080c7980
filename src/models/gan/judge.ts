/**
 * How recognisable a conditional GAN's samples are to a classifier trained on real images only
 * (docs/gan.md §9): `perClass` samples of every class, each counted right when the classifier's
 * most probable class is the one it was drawn for; and the samples' Gaussian in the classifier's
 * features (overall and per class) for a proxy FID against real images (src/models/frechet.ts).
 */
import type { ImageDataset } from '../../data/dataset.js';
import { batchValues } from '../../data/dataset.js';
import type { Engine } from '../../engine/engine.js';
import { fail } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { add, mul } from '../../ops/index.js';
import { FeatureAccumulator, type FeatureStats } from '../frechet.js';

/** What judges the samples: a SeedClassifier, or anything with its predict / features on 0…255 pixels. */
export interface SampleJudge {
  readonly engine: Engine;
  readonly config: { inputShape: readonly number[]; classes: number; widths: readonly number[] };
  predict(pixels: Tensor): Promise<Float32Array[]>;
  features(pixels: Tensor): Tensor;
}

/** Images [N, C, R, R] in [−1, 1] of the given classes (a generator's sampleGan, or a stand-in in tests). */
export type LabelledDraw = (labels: number[], seed: number) => Tensor;

export interface GanJudgeOptions {
  classes: number;
  /** Samples per class (default 1000). */
  perClass?: number;
  /** Images drawn at once (default 100). */
  batch?: number;
  /** Seed of the first batch; batch b uses seed + b (default 0). */
  seed?: number;
  onBatch?: (done: number, total: number) => void;
}

export interface GanJudgement {
  perClass: number;
  /** confusion[y][k]: samples drawn for class y that the classifier calls k. */
  confusion: number[][];
  /** Share classified as their class, per class and over all samples. */
  share: number[];
  overall: number;
  features: FeatureStats;
  classFeatures: FeatureStats[];
}

/** Classifies and embeds `perClass` samples of each class, the classes interleaved batch by batch. */
export async function judgeGan(draw: LabelledDraw, judge: SampleJudge, opts: GanJudgeOptions): Promise<GanJudgement> {
  const K = opts.classes, per = opts.perClass ?? 1000, batch = opts.batch ?? 100, seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(per) || per < 2) fail('judgeGan', `perClass = ${per} must be an integer ≥ 2 (a covariance needs two samples)`);
  if (!Number.isSafeInteger(batch) || batch < 1) fail('judgeGan', `batch = ${batch} must be a positive integer`);
  if (judge.config.classes !== K) fail('judgeGan', `the classifier knows ${judge.config.classes} classes, the generator ${K}`);
  const dim = judge.config.widths[2]!;
  const all = new FeatureAccumulator(dim), byClass = Array.from({ length: K }, () => new FeatureAccumulator(dim));
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const total = per * K;
  for (let start = 0, b = 0; start < total; start += batch, b++) {
    const labels = Array.from({ length: Math.min(batch, total - start) }, (_, i) => (start + i) % K);
    const x = draw(labels, seed + b);
    const px = judge.engine.scope(() => mul(add(x, 1), 127.5));
    x.dispose();
    try {
      if (px.shape.slice(1).join() !== judge.config.inputShape.join())
        fail('judgeGan', `the classifier takes ${judge.config.inputShape.join('×')} images, the generator draws ${px.shape.slice(1).join('×')}`);
      const probs = await judge.predict(px);
      const f = judge.features(px);
      const rows = await f.data();
      f.dispose();
      probs.forEach((p, i) => {
        let best = 0;
        for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
        confusion[labels[i]!]![best]!++;
        const row = rows.subarray(i * dim, (i + 1) * dim);
        all.add(row);
        byClass[labels[i]!]!.add(row);
      });
    } finally {
      px.dispose();
    }
    opts.onBatch?.(start + labels.length, total);
  }
  const share = confusion.map((row, y) => row[y]! / per);
  return { perClass: per, confusion, share, overall: share.reduce((a, b) => a + b, 0) / K, features: all.stats(), classFeatures: byClass.map((a) => a.stats()) };
}

/** The features' Gaussian of real images (0…255 pixels), overall and per label: the reference of the FID proxy. */
export async function realFeatureStats(judge: SampleJudge, images: ImageDataset, classes: number, batch = 250): Promise<{ features: FeatureStats; classFeatures: FeatureStats[] }> {
  if (!images.labels) fail('realFeatureStats', `${images.name} has no labels`);
  const dim = judge.config.widths[2]!;
  const all = new FeatureAccumulator(dim), byClass = Array.from({ length: classes }, () => new FeatureAccumulator(dim));
  for (let start = 0; start < images.count; start += batch) {
    const idx = Array.from({ length: Math.min(batch, images.count - start) }, (_, i) => start + i);
    const x = judge.engine.tensor(batchValues(images, idx), [idx.length, ...images.shape]);
    const f = judge.features(x);
    x.dispose();
    const rows = await f.data();
    f.dispose();
    idx.forEach((j, i) => {
      const row = rows.subarray(i * dim, (i + 1) * dim);
      all.add(row);
      byClass[images.labels![j]!]!.add(row);
    });
  }
  return { features: all.stats(), classFeatures: byClass.map((a) => a.stats()) };
}
