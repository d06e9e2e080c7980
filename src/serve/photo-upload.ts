/**
 * An uploaded photo of any size for POST /anonymize: PNG, JPEG or WebP by its bytes (not by its
 * content type), checked from the header before a pixel is decoded, then decoded as
 * `inflow anonymize` reads a file (src/cli/photo-files.ts): upright, alpha dropped, 8-bit sRGB.
 */
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import type { PhotoFormat } from '../cli/photo-files.js';
import type { RgbImage } from '../models/detect/image.js';
import { badRequest, HttpError } from './http-error.js';

const FORMATS: ReadonlySet<string> = new Set<PhotoFormat>(['png', 'jpeg', 'webp']);

export interface UploadedPhoto { image: RgbImage; format: PhotoFormat }

export async function decodePhoto(op: string, body: Buffer, maxPixels: number): Promise<UploadedPhoto> {
  if (body.length === 0) throw badRequest(`${op}: the image body is empty`);
  let meta: Metadata;
  try {
    meta = await sharp(body, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch {
    throw badRequest(`${op}: the body is not a readable PNG, JPEG or WebP image`);
  }
  if (!meta.format || !FORMATS.has(meta.format)) throw new HttpError(415, `${op}: the image is ${meta.format ?? 'of an unknown format'}, not PNG, JPEG or WebP`);
  const { width = 0, height = 0 } = meta;
  if (width < 1 || height < 1) throw badRequest(`${op}: the image header states ${width}×${height} pixels`);
  if (width * height > maxPixels) throw new HttpError(413, `${op}: ${width}×${height} pixels is over the ${maxPixels} pixels an image may have`);
  let data: Buffer, info: OutputInfo;
  try {
    ({ data, info } = await sharp(body, { failOn: 'error', limitInputPixels: maxPixels })
      .rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }));
  } catch {
    throw badRequest(`${op}: the ${meta.format.toUpperCase()} image is corrupt or truncated`);
  }
  if (info.channels !== 3) throw badRequest(`${op}: the image decoded to ${info.channels} channels, expected 3`);
  return {
    image: { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), channels: 3 },
    format: meta.format as PhotoFormat,
  };
}
