import { readdirSync, statSync, type Stats } from 'node:fs';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { InflowError } from '../engine/errors.js';
import { fsReason, kindOf } from '../io/atomic-write.js';
import type { ImageDataset } from './dataset.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);
/** What the content must be, whatever the extension says (sharp would also render SVG, TIFF, HEIF, …). */
const IMAGE_FORMATS = new Set(['png', 'jpeg', 'webp']);

/**
 * Most pixels (width × height, from the file's header) an image may have: 50 megapixels, enough
 * for the photos of a 48 MP phone. Decoding is skipped above it: a 16 000 × 16 000 PNG would
 * otherwise be decoded whole (seconds, hundreds of MB) only to be shrunk to 32 × 32.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000;

export interface FolderOptions {
  /** Target [channels (1 or 3), height, width]. Images are resized to cover and centre-cropped. */
  shape: [number, number, number];
  /** 'skip' (default) warns and skips an unreadable or oversized image; 'stop' throws naming the file. */
  onCorrupt?: 'skip' | 'stop';
  /** Most width × height per image, read from the header before decoding (default DEFAULT_MAX_IMAGE_PIXELS). */
  maxPixels?: number;
  warn?: (message: string) => void;
}

/**
 * Every PNG / JPEG / WebP image directly inside `dir`, decoded by sharp, resized to the model's
 * input size. Entries that are not regular files (folders, named pipes, devices: a FIFO called
 * x.png would block the first read forever) are skipped with a warning, found by stat, which never
 * opens them. Each image's header is read first and an image over `maxPixels` is not decoded.
 * Errors are InflowErrors naming the folder or file.
 */
export async function loadImageFolder(dir: string, opts: FolderOptions): Promise<ImageDataset> {
  let names: string[];
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new InflowError(`${dir}: cannot read this image folder (${fsReason(e)})`);
  }
  if (!st.isDirectory()) throw new InflowError(`${dir}: is ${kindOf(st)}, not a folder of images`);
  try {
    names = readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  } catch (e) {
    throw new InflowError(`${dir}: cannot list this image folder (${fsReason(e)})`);
  }
  if (names.length === 0) throw new InflowError(`${dir}: no .png, .jpg, .jpeg or .webp images in this folder`);
  const [C, H, W] = opts.shape;
  if (C !== 1 && C !== 3) throw new InflowError(`image folders give 1 or 3 channels, not ${C}`);
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  if (!Number.isSafeInteger(maxPixels) || maxPixels < 1) throw new InflowError(`loadImageFolder: maxPixels = ${maxPixels} must be a positive integer`);
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const chunks: Uint8Array[] = [];
  let notFiles = 0;
  for (const name of names) {
    const file = join(dir, name);
    let entry: Stats;
    try {
      entry = statSync(file);
    } catch (e) {
      notFiles++;
      warn(`skipping ${file}: ${fsReason(e)}`);
      continue;
    }
    if (!entry.isFile()) {
      notFiles++;
      warn(`skipping ${file}: it is ${kindOf(entry)}, not an image file`);
      continue;
    }
    try {
      chunks.push(await decode(file, C, H, W, maxPixels));
    } catch (e) {
      const msg = `${file}: ${e instanceof TooLarge ? e.message : `cannot read image (${e instanceof Error ? e.message : String(e)})`}`;
      if (opts.onCorrupt === 'stop') throw new InflowError(msg);
      warn(`skipping ${msg}`);
    }
  }
  if (chunks.length === 0) {
    const what = notFiles === names.length ? `none of the ${names.length} entries named like images is a regular file` : `none of the ${names.length} images could be read`;
    throw new InflowError(`${dir}: ${what}`);
  }
  const images = new Uint8Array(chunks.length * C * H * W);
  chunks.forEach((c, i) => images.set(c, i * C * H * W));
  return { name: dir, images, labels: null, count: chunks.length, shape: [C, H, W] };
}

class TooLarge extends Error {}

/** One image as planar C × H × W bytes; the header is checked before any pixel is decoded. */
async function decode(file: string, C: number, H: number, W: number, maxPixels: number): Promise<Uint8Array> {
  // The header only: sharp reads no pixel data for metadata(). Its own pixel limit is lifted here so
  // that the message can give the size; the decode below enforces maxPixels again.
  const meta = await sharp(file, { failOn: 'error', limitInputPixels: false }).metadata();
  if (!meta.format || !IMAGE_FORMATS.has(meta.format)) throw new Error(`its content is ${meta.format ?? 'of an unknown format'}, not PNG, JPEG or WebP`);
  const { width = 0, height = 0 } = meta;
  if (width * height > maxPixels)
    throw new TooLarge(`${width}×${height} pixels is over the limit of ${maxPixels} pixels per image, so it is not decoded (raise it with --max-image-pixels / maxPixels if it is wanted)`);
  let img = sharp(file, { failOn: 'error', limitInputPixels: maxPixels }).resize(W, H, { fit: 'cover' }).removeAlpha();
  img = C === 1 ? img.grayscale() : img.toColourspace('srgb');
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== C) throw new Error(`decoded ${info.channels} channels`);
  // sharp gives interleaved HWC; models want planar CHW.
  const chw = new Uint8Array(C * H * W);
  for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) chw[c * H * W + p] = data[p * C + c]!;
  return chw;
}
