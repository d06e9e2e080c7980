import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadData } from '../../src/cli/data-source.js';
import { defaultPhotoDir, loadPhotoPatches, missingPhotos, PHOTO_PATCHES, PHOTO_SOURCES, photoSources } from '../../src/data/photos.js';
import { InflowError } from '../../src/engine/errors.js';

/*
 * The skimage sample photos are fetched by `node scripts/fetch-photos.mjs` (CI does it in .ci/run
 * and sets INFLOW_REQUIRE_PHOTOS=1, so there their absence fails the run instead of skipping).
 */
const missing = missingPhotos();
if (missing.length && process.env.INFLOW_REQUIRE_PHOTOS === '1')
  throw new Error(`INFLOW_REQUIRE_PHOTOS=1 but ${missing.length} photos are missing from ${defaultPhotoDir()}; run: node scripts/fetch-photos.mjs`);
if (missing.length) console.warn(`photo tests skipped: the photos are not in ${defaultPhotoDir()} (run: node scripts/fetch-photos.mjs; CI does)`);

/** A source decoded as loadPhotoPatches decodes it (shrunk by PHOTO_PATCHES.scale, lanczos3), interleaved. */
async function decoded(file: string, channels: 1 | 3): Promise<{ data: Buffer; width: number; height: number }> {
  const path = join(defaultPhotoDir(), file), meta = await sharp(path).metadata();
  let img = sharp(path).removeAlpha().resize(Math.round(meta.width! * PHOTO_PATCHES.scale), Math.round(meta.height! * PHOTO_PATCHES.scale), { kernel: 'lanczos3' });
  img = channels === 1 ? img.grayscale() : img.toColourspace('srgb');
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Whether the planar patch occurs anywhere in the interleaved source (a mismatch usually shows at the first pixel). */
function occursIn(patch: Uint8Array, C: number, H: number, W: number, src: { data: Buffer; width: number; height: number }): boolean {
  for (let top = 0; top + H <= src.height; top++)
    for (let left = 0; left + W <= src.width; left++) {
      let same = true;
      for (let p = 0; p < H * W && same; p++)
        for (let c = 0; c < C && same; c++) same = src.data[((top + Math.floor(p / W)) * src.width + left + (p % W)) * C + c] === patch[c * H * W + p];
      if (same) return true;
    }
  return false;
}

describe('photo patches', () => {
  it('name the command that fetches the photos when they are missing, in one line', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'inflow-no-photos-'));
    const err = await loadPhotoPatches({ split: 'train', count: 1, shape: [3, 8, 8], dir: empty }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InflowError);
    expect((err as Error).message).toBe(`photos: none of the photos is in ${empty}; fetch them with: node scripts/fetch-photos.mjs --out ${empty}`);
  });

  it('refuse bad options in one line', async () => {
    await expect(loadPhotoPatches({ split: 'val' as never, count: 1, shape: [3, 8, 8] })).rejects.toThrow(/split = "val" must be 'train' or 'test'/);
    await expect(loadPhotoPatches({ split: 'train', count: 0, shape: [3, 8, 8] })).rejects.toThrow(/count = 0 must be a positive integer/);
    await expect(loadPhotoPatches({ split: 'train', count: 1, shape: [2, 8, 8] })).rejects.toThrow(/photos give 1 or 3 channels, not 2/);
    await expect(loadPhotoPatches({ split: 'train', count: 1, shape: [3, 8, 8], scale: 2 })).rejects.toThrow(/scale = 2 must be a number in \(0, 1\]/);
  });

  it('split by source image: held-out photos are only ever in the test split', () => {
    for (const channels of [1, 3] as const) {
      const train = photoSources('train', channels), test = photoSources('test', channels);
      expect(train.some((s) => test.includes(s))).toBe(false);
      expect(test.every((s) => s.heldOut) && train.every((s) => !s.heldOut)).toBe(true);
      expect(test.length).toBeGreaterThan(0);
    }
    expect(photoSources('train', 3).every((s) => s.colour)).toBe(true);
    expect(photoSources('train', 1).length + photoSources('test', 1).length).toBe(PHOTO_SOURCES.length);
  });

  it.skipIf(missing.length > 0)('are cut from the photos of their own split, the same for the same seed', async () => {
    const shape: [number, number, number] = [3, 8, 8];
    const test = await loadPhotoPatches({ split: 'test', count: 6, shape, seed: 5 });
    const train = await loadPhotoPatches({ split: 'train', count: 6, shape, seed: 5 });
    expect(test.shape).toEqual(shape);
    expect(test.labels).toBeNull();
    expect(Array.from((await loadPhotoPatches({ split: 'test', count: 6, shape, seed: 5 })).images)).toEqual(Array.from(test.images));
    const held = await Promise.all(photoSources('test', 3).map((s) => decoded(s.file, 3)));
    const seen = await Promise.all(photoSources('train', 3).map((s) => decoded(s.file, 3)));
    for (let n = 0; n < 6; n++) {
      const t = test.images.subarray(n * 192, (n + 1) * 192), r = train.images.subarray(n * 192, (n + 1) * 192);
      expect(held.some((s) => occursIn(t, 3, 8, 8, s)), `test patch ${n}`).toBe(true);
      expect(seen.some((s) => occursIn(t, 3, 8, 8, s)), `test patch ${n} in a training photo`).toBe(false);
      expect(seen.some((s) => occursIn(r, 3, 8, 8, s)), `train patch ${n}`).toBe(true);
    }
  });

  it.skipIf(missing.length > 0)('come as `--data photos`: the documented counts, at the model\'s shape', async () => {
    const { train, test } = await loadData({ data: 'photos' }, [1, 16, 16]);
    expect([train.count, test!.count]).toEqual([PHOTO_PATCHES.train, PHOTO_PATCHES.test]);
    expect(train.shape).toEqual([1, 16, 16]);
  });
});
