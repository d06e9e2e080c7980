import sharp, { type Metadata } from 'sharp';
import { badRequest } from './http-error.js';

/** Formats an upload may be, whatever its content type says: sharp would also render SVG, TIFF, HEIF, … */
const FORMATS = new Set(['png', 'jpeg']);

/**
 * One uploaded PNG or JPEG as planar C × H × W bytes for a model of that shape. The image must
 * already be the model's size (a server that silently resized would score a different image than
 * the one sent); grayscale, grayscale + alpha, RGB and RGBA are converted to the model's channels
 * as src/data/image-folder.ts converts a folder. The size comes from the header, so a huge image
 * is refused before any pixel is decoded.
 */
export async function decodeUpload(body: Buffer, shape: readonly [number, number, number], op: string): Promise<Uint8Array> {
  const [C, H, W] = shape;
  if (body.length === 0) throw badRequest(`${op}: the image body is empty`);
  let meta: Metadata;
  try {
    meta = await sharp(body, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch {
    throw badRequest(`${op}: the body is not a readable PNG or JPEG image`);
  }
  if (!meta.format || !FORMATS.has(meta.format)) throw badRequest(`${op}: the image is ${meta.format ?? 'of an unknown format'}, not PNG or JPEG`);
  const { width = 0, height = 0 } = meta;
  if (width !== W || height !== H) throw badRequest(`${op}: the image is ${width}×${height} pixels but the model takes ${W}×${H} images`);
  let img = sharp(body, { failOn: 'error', limitInputPixels: W * H }).removeAlpha();
  img = C === 1 ? img.grayscale() : img.toColourspace('srgb');
  let data: Buffer, channels: number;
  try {
    ({ data, info: { channels } } = await img.raw().toBuffer({ resolveWithObject: true }));
  } catch {
    throw badRequest(`${op}: the ${meta.format.toUpperCase()} image is corrupt or truncated`);
  }
  if (channels !== C) throw badRequest(`${op}: the image decoded to ${channels} channels, the model takes ${C}`);
  // sharp gives interleaved HWC; models want planar CHW.
  const chw = new Uint8Array(C * H * W);
  for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) chw[c * H * W + p] = data[p * C + c]!;
  return chw;
}
