import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describeValue, InflowError } from '../engine/errors.js';
import type { ImageDataset } from './dataset.js';
import { checkSeed, Rng } from './rng.js';

/** One sample photograph of Debian's python3-skimage package. */
export interface PhotoSource {
  file: string;
  /** A colour photograph (else grey: only in 1-channel sets). */
  colour: boolean;
  /** Held out: its patches are only ever in the test split. */
  heldOut: boolean;
  what: string;
}

/**
 * The photographs patches are cut from, and the fixed split BY SOURCE IMAGE (docs/degradations.md
 * §6). The motorcycle stereo pair shows one scene, so both halves are on the same side. Left out:
 * drawings and charts, the Hubble deep field (black with specks), motion-blurred or binary scans.
 * Never change the held-out ones: held-out numbers depend on them.
 */
export const PHOTO_SOURCES: readonly PhotoSource[] = [
  { file: 'astronaut.png', colour: true, heldOut: false, what: 'portrait of astronaut Eileen Collins (NASA)' },
  { file: 'rocket.jpg', colour: true, heldOut: false, what: 'a rocket on its launch pad at dusk' },
  { file: 'motorcycle_left.png', colour: true, heldOut: false, what: 'a motorcycle in a workshop (stereo, left)' },
  { file: 'motorcycle_right.png', colour: true, heldOut: false, what: 'the same motorcycle (stereo, right)' },
  { file: 'ihc.png', colour: true, heldOut: false, what: 'immunohistochemistry microscopy of tissue' },
  { file: 'retina.jpg', colour: true, heldOut: false, what: 'a human retina (fundus photograph)' },
  { file: 'chelsea.png', colour: true, heldOut: true, what: 'Chelsea the cat' },
  { file: 'coffee.png', colour: true, heldOut: true, what: 'a cup of coffee' },
  { file: 'brick.png', colour: false, heldOut: false, what: 'a brick wall' },
  { file: 'grass.png', colour: false, heldOut: false, what: 'grass' },
  { file: 'moon.png', colour: false, heldOut: false, what: 'the surface of the moon' },
  { file: 'coins.png', colour: false, heldOut: false, what: 'Greek coins' },
  { file: 'camera.png', colour: false, heldOut: true, what: 'the cameraman' },
  { file: 'gravel.png', colour: false, heldOut: true, what: 'gravel' },
];

/**
 * The documented patch sets of photoSplit: counts, the seed (the test split draws with seed + 1),
 * the scale the photos are shrunk by before cutting (more scene per patch) and the flat-patch
 * threshold. Never change them: held-out numbers depend on them.
 */
export const PHOTO_PATCHES = { seed: 20261202, train: 10000, test: 1000, scale: 0.5, minStd: 8 } as const;

/** Draws per patch before a flat one (std < minStd) is kept anyway: a source that is flat everywhere cannot loop forever. */
const MAX_TRIES = 20;

export const FETCH_PHOTOS = 'node scripts/fetch-photos.mjs';

/** The nearest folder above this file that holds a package.json: the repository, or the installed package. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Where the photos are read from: $INFLOW_PHOTOS_DIR, else .cache/photos in the package root. */
export function defaultPhotoDir(): string {
  return process.env.INFLOW_PHOTOS_DIR ? resolve(process.env.INFLOW_PHOTOS_DIR) : join(packageRoot(), '.cache', 'photos');
}

/** The listed photos missing from `dir` (empty when all are there). */
export function missingPhotos(dir = defaultPhotoDir()): string[] {
  return PHOTO_SOURCES.filter((s) => {
    try {
      return !statSync(join(dir, s.file)).isFile();
    } catch {
      return true;
    }
  }).map((s) => s.file);
}

function checkPhotos(dir: string): void {
  const missing = missingPhotos(dir);
  if (missing.length === 0) return;
  const command = dir === defaultPhotoDir() ? FETCH_PHOTOS : `${FETCH_PHOTOS} --out ${dir}`;
  throw new InflowError(`photos: ${missing.length === PHOTO_SOURCES.length ? 'none of the photos is' : `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'}`} in ${dir}; fetch them with: ${command}`);
}

/** The sources of one split for this channel count: colour photos for 3 channels, all of them (in grey) for 1. */
export function photoSources(split: 'train' | 'test', channels: 1 | 3): PhotoSource[] {
  return PHOTO_SOURCES.filter((s) => s.heldOut === (split === 'test') && (channels === 1 || s.colour));
}

interface Decoded {
  file: string;
  pixels: Uint8Array;
  width: number;
  height: number;
}

const decodedCache = new Map<string, Decoded>();

/** A source decoded once per (folder, channels, scale): interleaved HWC bytes. */
async function decodeSource(dir: string, file: string, channels: 1 | 3, scale: number): Promise<Decoded> {
  const path = join(dir, file), key = `${path}\0${channels}\0${scale}`;
  const hit = decodedCache.get(key);
  if (hit) return hit;
  let out: Decoded;
  try {
    let img = sharp(path, { failOn: 'error' }).removeAlpha();
    if (scale !== 1) {
      const meta = await sharp(path).metadata();
      img = img.resize(Math.max(1, Math.round((meta.width ?? 1) * scale)), Math.max(1, Math.round((meta.height ?? 1) * scale)), { kernel: 'lanczos3' });
    }
    img = channels === 1 ? img.grayscale() : img.toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels`);
    out = { file, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new InflowError(`photos: ${path}: cannot read this photo (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); fetch the photos again with: ${FETCH_PHOTOS}`);
  }
  decodedCache.set(key, out);
  return out;
}

export interface PhotoPatchOptions {
  /** 'train' cuts from the training photos, 'test' from the held-out ones. */
  split: 'train' | 'test';
  /** Number of patches. */
  count: number;
  /** [channels (1 or 3), height, width] of each patch. */
  shape: [number, number, number];
  /** Seed of the patch positions (default PHOTO_PATCHES.seed, + 1 for 'test'). */
  seed?: number;
  /** Photos are shrunk by this factor (0 < scale ≤ 1, default PHOTO_PATCHES.scale = 0.5, lanczos3) before cutting: more scene per patch. */
  scale?: number;
  /** A patch whose spatialStd (0…255) is below this is drawn again, up to 20 times (default PHOTO_PATCHES.minStd = 8). */
  minStd?: number;
  /** Folder of the photos (default defaultPhotoDir()). */
  dir?: string;
}

function fail(message: string): never {
  throw new InflowError(`loadPhotoPatches: ${message}`);
}

/** The mean over channels of each channel's standard deviation: how much a patch varies across its pixels (a flat orange patch scores 0). */
export function spatialStd(patch: Uint8Array, channels: number, plane: number): number {
  let total = 0;
  for (let c = 0; c < channels; c++) {
    let sum = 0, sum2 = 0;
    for (let p = c * plane; p < (c + 1) * plane; p++) {
      sum += patch[p]!;
      sum2 += patch[p]! * patch[p]!;
    }
    const mean = sum / plane;
    total += Math.sqrt(Math.max(0, sum2 / plane - mean * mean));
  }
  return total / channels;
}

/**
 * `count` patches cut from the photographs of one split: each patch picks a source uniformly, then
 * a position uniformly, with its own seeded generator; flat patches are redrawn (minStd). Returned
 * as planar 0…255 bytes like every ImageDataset, without labels.
 */
export async function loadPhotoPatches(opts: PhotoPatchOptions): Promise<ImageDataset> {
  if (opts === null || typeof opts !== 'object') fail(`options = ${describeValue(opts)} must be an object`);
  const { split, count } = opts;
  if (split !== 'train' && split !== 'test') fail(`split = ${describeValue(split)} must be 'train' or 'test'`);
  if (!Number.isSafeInteger(count) || count < 1) fail(`count = ${describeValue(count)} must be a positive integer`);
  if (!Array.isArray(opts.shape) || opts.shape.length !== 3 || !opts.shape.every((d) => Number.isSafeInteger(d) && d > 0))
    fail(`shape = ${describeValue(opts.shape)} must be [channels, height, width], positive integers`);
  const [C, H, W] = opts.shape;
  if (C !== 1 && C !== 3) fail(`photos give 1 or 3 channels, not ${C}`);
  if (count * C * H * W > 2 ** 31 - 1) fail(`${count} patches of ${C}×${H}×${W} are more bytes than one set may hold (2 GiB)`);
  const seed = checkSeed('loadPhotoPatches', opts.seed ?? PHOTO_PATCHES.seed + (split === 'test' ? 1 : 0));
  const scale = opts.scale ?? PHOTO_PATCHES.scale;
  if (typeof scale !== 'number' || !(scale > 0 && scale <= 1)) fail(`scale = ${describeValue(scale)} must be a number in (0, 1]`);
  const minStd = opts.minStd ?? PHOTO_PATCHES.minStd;
  if (typeof minStd !== 'number' || !(minStd >= 0 && minStd <= 255)) fail(`minStd = ${describeValue(minStd)} must be a number from 0 to 255`);
  const dir = resolve(opts.dir ?? defaultPhotoDir());
  checkPhotos(dir);
  const sources = await Promise.all(photoSources(split, C).map((s) => decodeSource(dir, s.file, C, scale)));
  const tooSmall = sources.find((s) => s.width < W || s.height < H);
  if (tooSmall) fail(`a ${H}×${W} patch does not fit ${tooSmall.file} (${tooSmall.height}×${tooSmall.width} at scale ${scale})`);
  const size = C * H * W, plane = H * W;
  const images = new Uint8Array(count * size), patch = new Uint8Array(size);
  const rng = new Rng(seed);
  for (let n = 0; n < count; n++) {
    const own = new Rng(rng.nextUint32());
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const src = sources[own.below(sources.length)]!;
      const top = own.below(src.height - H + 1), left = own.below(src.width - W + 1);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let c = 0; c < C; c++) patch[c * plane + y * W + x] = src.pixels[((top + y) * src.width + left + x) * C + c]!;
      if (spatialStd(patch, C, plane) >= minStd) break;
    }
    images.set(patch, n * size);
  }
  return { name: `photos-${split}`, images, labels: null, count, shape: [C, H, W] };
}

/** The documented photo patch sets for a model's input shape: PHOTO_PATCHES.train patches of the training photos, PHOTO_PATCHES.test of the held-out ones. */
export async function photoSplit(shape: [number, number, number], dir?: string): Promise<{ train: ImageDataset; test: ImageDataset }> {
  const common = { shape, ...(dir !== undefined ? { dir } : {}) };
  return {
    train: await loadPhotoPatches({ split: 'train', count: PHOTO_PATCHES.train, ...common }),
    test: await loadPhotoPatches({ split: 'test', count: PHOTO_PATCHES.test, ...common }),
  };
}
