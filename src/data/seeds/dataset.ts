import { describeValue, InflowError } from '../../engine/errors.js';
import type { ImageDataset } from '../dataset.js';
import { checkSeed } from '../rng.js';
import { checkCounts, SEED_CLASSES, SEED_SIZES, SEED_VIEWS, type SeedView } from './classes.js';
import { imageRng, renderSeed } from './render.js';

/** Procedural seed images: an ImageDataset (labels = SEED_CLASSES indices) that also records each image's view. */
export interface SeedDataset extends ImageDataset {
  labels: Int32Array;
  /** Index into SEED_VIEWS of each image. */
  views: Int32Array;
  classNames: readonly string[];
}

export interface SeedImageOptions {
  /** Images per class, in SEED_CLASSES order (see countsFromRatio for a ratio). */
  counts: readonly number[];
  /** 32 or 64 (square RGB). */
  size: number;
  seed: number;
  /** 'top', 'bottom', or 'both' (default: each image's view drawn at random, half and half). */
  view?: SeedView | 'both';
  /** 0 training stream (default), 1 held-out stream: the two never share an image. */
  stream?: 0 | 1;
}

/**
 * The documented training / held-out streams: the held-out images come from stream 1 of the same
 * seed, so they are new kernels, never copies of training ones. Never change the default seed:
 * held-out numbers depend on it.
 */
export const SEED_IMAGES = { seed: 20261202 } as const;

/**
 * `counts[k]` images of each class, shuffled (by the seed) so any prefix mixes the classes. Image i
 * is drawn from its own generator state (imageRng), so the set is the same on every machine.
 */
export function seedImages(opts: SeedImageOptions): SeedDataset {
  const counts = checkCounts('seedImages: counts', opts.counts);
  if (!(SEED_SIZES as readonly number[]).includes(opts.size)) throw new InflowError(`seedImages: size ${describeValue(opts.size)} must be ${SEED_SIZES.join(' or ')}`);
  const seed = checkSeed('seedImages', opts.seed);
  const view = opts.view ?? 'both';
  if (view !== 'both' && !(SEED_VIEWS as readonly string[]).includes(view)) throw new InflowError(`seedImages: view ${describeValue(view)} must be top, bottom or both`);
  const stream = opts.stream ?? 0;
  if (stream !== 0 && stream !== 1) throw new InflowError(`seedImages: stream ${describeValue(stream)} must be 0 (training) or 1 (held-out)`);
  const labels = imageRng(seed, stream + 2, 0).shuffle(counts.flatMap((n, k) => Array<number>(n).fill(k)));
  const size = opts.size, px = 3 * size * size, count = labels.length;
  const images = new Uint8Array(count * px);
  const views = new Int32Array(count);
  labels.forEach((k, i) => {
    const rng = imageRng(seed, stream, i);
    views[i] = view === 'both' ? rng.below(2) : SEED_VIEWS.indexOf(view);
    images.set(renderSeed(rng, SEED_CLASSES[k]!, SEED_VIEWS[views[i]!]!, size), i * px);
  });
  return { name: `seeds-${size}`, images, labels: Int32Array.from(labels), count, shape: [3, size, size], views, classNames: SEED_CLASSES };
}

/** A training set with `train` images per class and a held-out set with `test` per class, from the two streams of one seed. */
export function seedSplit(opts: { train: readonly number[]; test: readonly number[]; size: number; seed?: number; view?: SeedView | 'both' }): { train: SeedDataset; test: SeedDataset } {
  const seed = opts.seed ?? SEED_IMAGES.seed;
  const common = { size: opts.size, seed, ...(opts.view ? { view: opts.view } : {}) };
  return {
    train: { ...seedImages({ ...common, counts: opts.train, stream: 0 }), name: `seeds-${opts.size}-train` },
    test: { ...seedImages({ ...common, counts: opts.test, stream: 1 }), name: `seeds-${opts.size}-test` },
  };
}
