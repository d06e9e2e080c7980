import { describeValue, fail } from '../../engine/errors.js';
import { loadPhotoPatches, missingPhotos } from '../photos.js';
import { plateScene, type PlateScene } from './scene.js';

/**
 * The two splits of the synthetic plates (docs/plates.md §3), fixed so held-out numbers stay
 * comparable: scene i of a split is seeded firstSeed + i, and the ranges never meet (a set holds
 * at most maxCount scenes); photo backgrounds come from photoSources(split) — the held-out photos
 * only in the test split. Never change them.
 */
export const PLATE_SPLITS = {
  train: { firstSeed: 0 },
  test: { firstSeed: 1_000_000_000 },
  maxCount: 1_000_000_000,
  /** Photo crops per split, cut once per set (src/data/photos.ts, its documented seeds). */
  photoPatches: { train: 400, test: 100 },
} as const;

export interface PlateSceneSet {
  readonly split: 'train' | 'test';
  readonly count: number;
  readonly size: number;
  /** Whether photo crops are among the backgrounds (else all are synthetic). */
  readonly photos: boolean;
  /** Scene i (0 ≤ i < count): the same every call. */
  scene(i: number): PlateScene;
}

export interface PlateScenesOptions {
  split: 'train' | 'test';
  count: number;
  /** Side of the square images. */
  size: number;
  /**
   * 'auto' (default): photo backgrounds when the photos are in `photoDir` (scripts/fetch-photos.mjs),
   * else synthetic only; true: the photos are required; false: synthetic only.
   */
  photos?: boolean | 'auto';
  photoDir?: string;
}

/** A split of synthetic plate scenes, generated on demand from their seeds. */
export async function plateScenes(opts: PlateScenesOptions): Promise<PlateSceneSet> {
  if (opts === null || typeof opts !== 'object') fail('plateScenes', `options = ${describeValue(opts)} must be an object`);
  const { split, count, size } = opts;
  if (split !== 'train' && split !== 'test') fail('plateScenes', `split = ${describeValue(split)} must be 'train' or 'test'`);
  if (!Number.isSafeInteger(count) || count < 1 || count > PLATE_SPLITS.maxCount)
    fail('plateScenes', `count = ${describeValue(count)} must be an integer from 1 to ${PLATE_SPLITS.maxCount}`);
  if (!Number.isSafeInteger(size) || size < 32 || size > 1024) fail('plateScenes', `size = ${describeValue(size)} must be an integer from 32 to 1024`);
  const want = opts.photos ?? 'auto';
  if (want !== true && want !== false && want !== 'auto') fail('plateScenes', `photos = ${describeValue(want)} must be true, false or 'auto'`);
  const usePhotos = want === true || (want === 'auto' && missingPhotos(...(opts.photoDir ? [opts.photoDir] : [])).length === 0);
  let photos: { count: number; patch(i: number): Float32Array } | null = null;
  if (usePhotos) {
    // Photos halved (as the photo patch sets) up to 256-pixel scenes, less shrunk above, so a crop still fits the smallest photo.
    const scale = Math.min(1, Math.max(0.5, size / 256));
    const bank = await loadPhotoPatches({ split, count: PLATE_SPLITS.photoPatches[split], shape: [3, size, size], scale, ...(opts.photoDir ? { dir: opts.photoDir } : {}) });
    const n = 3 * size * size;
    photos = {
      count: bank.count,
      patch: (i) => Float32Array.from(bank.images.subarray(i * n, (i + 1) * n), (v) => v / 127.5 - 1),
    };
  }
  const first = PLATE_SPLITS[split].firstSeed;
  return {
    split, count, size, photos: photos !== null,
    scene(i) {
      if (!Number.isSafeInteger(i) || i < 0 || i >= count) fail('plateScenes', `scene ${describeValue(i)} is outside the ${count} scenes of this set`);
      return plateScene(first + i, { size, photos });
    },
  };
}
