/**
 * Photos in and out for `inflow anonymize`: decoded to 8-bit interleaved RGB (the detector's
 * RgbImage), upright (EXIF orientation applied), encoded by the output's extension. sharp writes
 * no metadata unless asked, so EXIF (GPS position, camera serial) never reaches the output.
 */
import { extname } from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../data/image-folder.js';
import type { RgbImage } from '../models/detect/image.js';
import { probeImage } from './task-images.js';
import { UserError } from './user-error.js';

export type PhotoFormat = 'png' | 'jpeg' | 'webp';

const EXTENSIONS: Record<string, PhotoFormat> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp' };

/** The extensions a photo may have, for listing a folder. */
export const isPhotoName = (name: string): boolean => extname(name).toLowerCase() in EXTENSIONS;

/** The format an output path asks for by its extension; anything else is refused before work starts. */
export function photoFormat(flag: string, path: string): PhotoFormat {
  const f = EXTENSIONS[extname(path).toLowerCase()];
  if (!f) throw new UserError(`${flag} ${path}: name a .png, .jpg, .jpeg or .webp file (the extension picks the format)`);
  return f;
}

/** A photo as RGB bytes; the header was checked by probeImage (format, pixel count) before decoding. */
export async function readPhoto(path: string): Promise<RgbImage> {
  const meta = await probeImage(path);
  let data: Buffer, info: OutputInfo;
  try {
    ({ data, info } = await sharp(path, { failOn: 'error', limitInputPixels: DEFAULT_MAX_IMAGE_PIXELS })
      .rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }));
  } catch {
    throw new UserError(`${path}: the ${meta.format!.toUpperCase()} image is corrupt or truncated`);
  }
  if (info.channels !== 3) throw new UserError(`${path}: the image decoded to ${info.channels} channels, expected 3`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), channels: 3 };
}

/**
 * The photo encoded as `format`: PNG and WebP losslessly (every pixel as computed), JPEG at
 * quality 92 without chroma subsampling (lossy: the pixels outside the faces change slightly).
 */
export async function encodePhoto(img: RgbImage, format: PhotoFormat): Promise<Uint8Array> {
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: (img.channels ?? 3) as 3 | 4 } });
  const out = format === 'png' ? s.png() : format === 'webp' ? s.webp({ lossless: true }) : s.jpeg({ quality: 92, chromaSubsampling: '4:4:4' });
  return new Uint8Array(await out.toBuffer());
}

/** A 1-channel mask (255 filled, 0 kept) as a grey PNG. */
export async function encodeMask(mask: { width: number; height: number; data: Uint8Array }): Promise<Uint8Array> {
  return new Uint8Array(await sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } }).toColourspace('b-w').png().toBuffer());
}
